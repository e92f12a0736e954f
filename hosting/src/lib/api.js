// The pages' calls to the functions: http.js's request, made as the signed-in person when `auth` is set.
import { request } from "./http.js";
import { session } from "./session.js";

export async function api(path, { auth = false, ...options } = {}) {
  if (!auth) return request(path, options);
  const token = await session.token();
  try {
    return await request(path, { ...options, token });
  } catch (error) {
    // A token the server refused: forget it so the pages ask to sign in again.
    if (error.status === 401) await session.forget();
    throw error;
  }
}

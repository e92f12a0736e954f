// Every call to the functions goes through here: JSON in (or a photo as it is, a Blob) and JSON out, and a failure
// turned into an ApiError people can
// read. It takes the token as an argument and knows nothing of sessions, so session.js can use it to sign in.
import { serverMessage, UNREACHABLE, UNREADABLE_ANSWER } from "./messages.js";

export class ApiError extends Error {
  // code: the server's stable error code; null where the answer carried none (no connection, a proxy's error page).
  constructor(message, status, code = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function request(path, { method = "GET", body, token, signal } = {}) {
  const headers = {};
  const raw = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = raw ? body.type : "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    const sent = body === undefined || raw ? body : JSON.stringify(body);
    response = await fetch(path, { method, headers, signal, body: sent });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(UNREACHABLE, 0);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // A proxy's HTML error page or a cut connection: handled below like any other failure.
  }
  if (!response.ok) {
    const code = typeof payload?.code === "string" ? payload.code : null;
    const text = typeof payload?.error === "string" ? payload.error : "";
    throw new ApiError(serverMessage(response.status, code, text), response.status, code);
  }
  if (payload === null) throw new ApiError(UNREADABLE_ANSWER, response.status);
  return payload;
}

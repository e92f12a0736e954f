// Every call to the functions goes through here: JSON in and out, and server errors turned into sentences.
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export const IMAGE_MESSAGE = "We couldn't read that file as a photo. Choose a JPEG, PNG or WebP image.";

// The server's messages are for developers; these are what people read.
const FRIENDLY = {
  "failed to process image, try another image": IMAGE_MESSAGE,
  "failed to parse json, invalid format": "The app sent a request the server did not understand. Reload the page and try again.",
  "model unavailable, try again later": "That model isn't available right now. Pick another one or try again later.",
  "failed to save prediction, try again": "The photo was analysed but could not be saved to your history. Try again.",
  "invalid or expired token, sign in again": "Your session has expired. Sign in again.",
};

function friendly(status, raw) {
  if (status === 413) return "That photo is too large. Choose one under 10 MB.";
  if (raw) return FRIENDLY[raw] || raw.charAt(0).toUpperCase() + raw.slice(1) + ".";
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  return `The server answered with an unexpected error (${status}). Try again.`;
}

export async function api(path, { method = "GET", body, auth = false, signal } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) {
    const token = await session.token();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Can't reach the server. Check your connection and try again.", 0);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // A proxy's HTML error page or a cut connection: handled below like any other failure.
  }
  if (!response.ok) {
    if (response.status === 401 && auth) await session.expired();
    throw new ApiError(friendly(response.status, payload && payload.error), response.status);
  }
  if (payload === null) throw new ApiError("The server sent an answer the app could not read. Try again.", response.status);
  return payload;
}

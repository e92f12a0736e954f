// Every sentence the pages show when something fails, in one place. Server errors are looked up by their stable
// `code`: the English `error` text beside it is for developers and older clients, and may change.

const asSentence = (text) => text.charAt(0).toUpperCase() + text.slice(1) + ".";

export const IMAGE_MESSAGE = "We couldn't read that file as a photo. Choose a JPEG, PNG or WebP image.";
export const INVALID_EMAIL = "Enter a valid email address.";
export const PASSWORD_TOO_SHORT = "The password needs at least 10 characters.";
export const UNREACHABLE = "Can't reach the server. Check your connection and try again.";
export const UNREADABLE_ANSWER = "The server sent an answer the app could not read. Try again.";
export const FILE_UNREADABLE = "That file could not be read. Choose it again.";
export const NO_MODELS = "No model is installed on the server yet.";
export const NO_CAMERA_API = "This browser cannot use a camera on this page. Open Moodlens over https (or on localhost).";

const TOO_LARGE = "That photo is too large. Choose one under 10 MB.";
const EMAIL_TAKEN = "An account with this email already exists.";
const WRONG_CREDENTIALS = "Wrong email or password.";

// A sentence per code, or a function of the server's text where that text says what only the server knows (which
// prediction or path was missing, its password limits, the setting that is wrong). No prototype: the code comes
// from outside and must not find "constructor" here.
const SERVER = {
  __proto__: null,
  invalid_json: "The app sent a request the server did not understand. Reload the page and try again.",
  invalid_image: IMAGE_MESSAGE,
  too_large: TOO_LARGE,
  method_not_allowed: "Method not allowed.",
  model_unavailable: "That model isn't available right now. Pick another one or try again later.",
  internal: "Internal error.",
  save_failed: "The photo was analysed but could not be saved to your history. Try again.",
  invalid_token: "Your session has expired. Sign in again.",
  sign_in_required: "Sign in to see your history.",
  history_unavailable: "History unavailable, try again.",
  not_found: asSentence,
  invalid_limit: "Limit must be a number.",
  invalid_cursor: "Invalid cursor.",
  local_accounts_off: "Local accounts are off: sign in with Firebase.",
  email_taken: EMAIL_TAKEN,
  wrong_credentials: WRONG_CREDENTIALS,
  invalid_email: INVALID_EMAIL,
  invalid_password: asSentence,
  misconfigured: (text) => `The server is not configured correctly: ${text}.`,
  rate_limited: "Too many attempts. Wait a few minutes, then try again.",
  invalid_query: "The app sent a request the server did not understand. Reload the page and try again.",
};

/** What to tell people about a failed call: code and text from the JSON error body, either may be missing. */
export function serverMessage(status, code, text) {
  const known = SERVER[code];
  if (typeof known === "string") return known;
  // A proxy's own 413 has no JSON body: the photo went over its limit before reaching the function.
  if (status === 413) return TOO_LARGE;
  if (text) return known ? known(text) : asSentence(text);
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  return `The server answered with an unexpected error (${status}). Try again.`;
}

const CAMERA_BLOCKED =
  "Camera access was blocked. Allow the camera for this site in your browser's settings, then press Start camera again.";
const NO_CAMERA = "No camera was found on this device. Connect one, or analyse a photo on the Upload page instead.";
// Keyed on the DOMException name getUserMedia rejects with.
const CAMERA = {
  __proto__: null,
  NotAllowedError: CAMERA_BLOCKED,
  SecurityError: CAMERA_BLOCKED,
  NotFoundError: NO_CAMERA,
  OverconstrainedError: NO_CAMERA,
  NotReadableError: "The camera is in use by another app. Close it there, then press Start camera again.",
};

export function cameraMessage(error) {
  return CAMERA[error.name] ?? `The camera could not be started (${error.message || error.name}).`;
}

// Keyed on Firebase Auth's error codes; the same sentences as the local accounts' where the failure is the same.
const FIREBASE_AUTH = {
  __proto__: null,
  "auth/email-already-in-use": EMAIL_TAKEN,
  "auth/invalid-email": INVALID_EMAIL,
  "auth/weak-password": "Choose a longer password (at least 6 characters).",
  "auth/invalid-credential": WRONG_CREDENTIALS,
  "auth/wrong-password": WRONG_CREDENTIALS,
  "auth/user-not-found": WRONG_CREDENTIALS,
  "auth/too-many-requests": "Too many attempts. Wait a minute and try again.",
  "auth/network-request-failed": "Can't reach the sign-in service. Check your connection.",
};

export function firebaseAuthMessage(error) {
  return FIREBASE_AUTH[error.code] ?? "Signing in failed. Try again.";
}

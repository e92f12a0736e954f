// Who is signed in. The server says how accounts work (/auth_config_api): Firebase Auth on Firebase, the
// embedded server's local accounts otherwise. Pages only see this one interface. It calls the server through
// http.js, not api.js: api.js asks this module for the token, so the dependency runs one way.
import { request } from "./http.js";

const STORAGE_KEY = "moodlens.session";
const listeners = new Set();
let backendPromise;

function notify(user) {
  for (const listener of listeners) listener(user);
}

// Local accounts: the server hands out a signed token that the page keeps until it expires.
function localBackend() {
  const stored = () => {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY));
      if (saved && saved.token && saved.expires_at * 1000 > Date.now()) return saved;
    } catch {
      // Unreadable storage counts as signed out.
    }
    localStorage.removeItem(STORAGE_KEY);
    return null;
  };
  const keep = (saved) => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    notify({ uid: saved.uid, email: saved.email });
  };
  // Another tab signing in or out changes this tab's header too.
  window.addEventListener("storage", (event) => {
    if (event.key !== STORAGE_KEY) return;
    const saved = stored();
    notify(saved && { uid: saved.uid, email: saved.email });
  });
  return {
    mode: "local",
    async user() {
      const saved = stored();
      return saved && { uid: saved.uid, email: saved.email };
    },
    async token() {
      return stored()?.token ?? null;
    },
    async signIn(email, password) {
      keep(await request("/auth_signin_api", { method: "POST", body: { email, password } }));
    },
    async signUp(email, password) {
      keep(await request("/auth_signup_api", { method: "POST", body: { email, password } }));
    },
    async signOut() {
      const token = stored()?.token;
      localStorage.removeItem(STORAGE_KEY);
      notify(null);
      // The server revokes the token too, so a copy of it left anywhere stops working now, not when it expires.
      // Best effort: this browser has forgotten it either way.
      if (token) await request("/auth_signout_api", { method: "POST", token }).catch(() => {});
    },
    // Forgets a token the server already refused, without asking the server to revoke it again.
    async forget() {
      localStorage.removeItem(STORAGE_KEY);
      notify(null);
    },
  };
}

function backend() {
  backendPromise ??= request("/auth_config_api").then(async (config) => {
    if (config.mode !== "firebase") return localBackend();
    // The Firebase SDK is a separate chunk, downloaded only where the app runs on Firebase.
    const { firebaseBackend } = await import("./firebase-session.js");
    return firebaseBackend(config, notify);
  });
  return backendPromise;
}

export const session = {
  mode: async () => (await backend()).mode,
  user: async () => (await backend()).user(),
  token: async () => (await backend()).token(),
  signIn: async (email, password) => (await backend()).signIn(email, password),
  signUp: async (email, password) => (await backend()).signUp(email, password),
  signOut: async () => (await backend()).signOut(),
  // A token the server refused, or an account just deleted: forget it so the pages ask to sign in again.
  forget: async () => {
    const active = await backend();
    return active.forget ? active.forget() : active.signOut();
  },
  onChange(listener) {
    listeners.add(listener);
  },
};

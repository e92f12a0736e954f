// Sign in / create account. The same form serves local accounts and Firebase Auth (session.js decides).
import { api } from "./lib/api.js";
import { $, enableScriptedControls, setMessage, show } from "./lib/dom.js";
import { renderHeader } from "./lib/layout.js";
import { INVALID_EMAIL, PASSWORD_TOO_SHORT } from "./lib/messages.js";
import { session } from "./lib/session.js";

const MODES = {
  signin: { title: "Welcome back", lead: "Sign in to keep every prediction in your history.", submit: "Sign in",
    busy: "Signing in…", autocomplete: "current-password" },
  signup: { title: "Create your account", lead: "Your predictions are saved privately: only you can see them.",
    submit: "Create account", busy: "Creating your account…", autocomplete: "new-password" },
};
let mode = "signin";
const form = $("#auth-form");
const message = $("#auth-message");
const submit = $("#auth-submit");

// Only a page of this site: an address from the query string must not send people elsewhere.
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^[\w-]+\.html$/.test(next) ? next : "./";
}

function setMode(next) {
  mode = next;
  const text = MODES[mode];
  $("#tab-signin").setAttribute("aria-selected", String(mode === "signin"));
  $("#tab-signup").setAttribute("aria-selected", String(mode === "signup"));
  $("#auth-title").textContent = text.title;
  $("#auth-lead").textContent = text.lead;
  submit.textContent = text.submit;
  $("#password").autocomplete = text.autocomplete;
  show($("#password-hint"), mode === "signup");
  setMessage(message, "");
}

function showUser(user) {
  show($("#auth"), !user);
  show($("#signed-in"), Boolean(user));
  if (user) $("#signed-in-email").textContent = user.email;
}

$("#tab-signin").addEventListener("click", () => setMode("signin"));
$("#tab-signup").addEventListener("click", () => setMode("signup"));
$("#sign-out").addEventListener("click", () => session.signOut());
$("#delete-account").addEventListener("click", () => $("#confirm-delete-account").showModal());
$("#confirm-delete-account").addEventListener("close", async () => {
  if ($("#confirm-delete-account").returnValue !== "confirm") return;
  try {
    const { deleted } = await api("/account_api", { method: "DELETE", auth: true });
    await session.forget();
    setMessage(message, `Your account and ${deleted} saved ${deleted === 1 ? "prediction" : "predictions"} were deleted.`,
      "success");
  } catch (error) {
    setMessage($("#account-message"), error.message);
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = $("#email").value.trim();
  const password = $("#password").value;
  if (!email || !$("#email").checkValidity()) return setMessage(message, INVALID_EMAIL);
  if (password.length < 10) return setMessage(message, PASSWORD_TOO_SHORT);
  submit.disabled = true;
  submit.textContent = MODES[mode].busy;
  setMessage(message, "");
  try {
    await (mode === "signup" ? session.signUp(email, password) : session.signIn(email, password));
    location.assign(nextPage());
  } catch (error) {
    setMessage(message, error.message);
  } finally {
    submit.disabled = false;
    submit.textContent = MODES[mode].submit;
  }
});
enableScriptedControls();

renderHeader();
if (new URLSearchParams(location.search).get("mode") === "signup") setMode("signup");
session.onChange(showUser);
session.user().then(showUser, (error) => setMessage(message, error.message));

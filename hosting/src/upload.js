// Upload page (home): pick or drop a photo, choose a model, see each face's emotions; saved only when asked.
import { api } from "./lib/api.js";
import { $, enableScriptedControls, h, setMessage, show } from "./lib/dom.js";
import { downloadLinks, facesCountText, predictionView } from "./lib/faces.js";
import { renderHeader } from "./lib/layout.js";
import { UNREACHABLE } from "./lib/messages.js";
import { loadModels, modelPicker, modelTitle, MOST_ACCURATE } from "./lib/models.js";
import { photoDataUrl, PhotoError } from "./lib/photo.js";
import { session } from "./lib/session.js";

// A first prediction per model that takes longer than this is loading that model: say so.
const WARMING_AFTER_MS = 3000;
// Under this longest side (px), faces are likely under the models' 48 px.
const SMALL_PHOTO_SIDE = 400;
// done: what the shown result was made from, so changing the model alone never re-runs (or re-saves) a photo.
// queue: the photos dropped or picked together, still to analyse, one at a time at the user's pace.
const state = {
  file: null, model: null, models: [], run: null, done: null, warmed: new Set(), user: null, queue: [], batch: 0,
};
const input = $("#file");
const dropzone = $("#dropzone");
const preview = $("#preview");
const message = $("#message");
const result = $("#result");
const status = $("#status");
const saveSwitch = $("#save");
const rerun = $("#rerun");
const retry = $("#retry");
const next = $("#next");

function setBusy(text) {
  show(status, Boolean(text));
  $("#status-text").textContent = text || "";
  dropzone.classList.toggle("dropzone--busy", Boolean(text));
}

function showPreview(file) {
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  show(preview);
  show($("#dropzone-empty"), false);
  dropzone.classList.add("dropzone--filled");
}

// Every save says so, with a link to it; an unsaved result says why, so nothing is stored unnoticed.
function savedNote(answer, saving) {
  if (answer.id) {
    return h("p", { class: "message message--success", role: "status" },
      "Saved to your history. ", h("a", { href: `history.html#${answer.id}` }, "Open it"));
  }
  if (!state.user) {
    return h("p", { class: "muted" },
      h("a", { href: "account.html?next=index.html" }, "Sign in"), " to keep your predictions in a history.");
  }
  return saving ? null : h("p", { class: "muted", role: "status" }, "Not saved: “Save to history” is off.");
}

function tryOtherModel(name) {
  const option = $(`input[name=model][value="${name}"]`);
  option.checked = true;
  state.model = name;
  analyse();
}

// What to try next depends on the model that missed and on the photo: "larger faces" is no advice for a 12 MP photo.
function noFaceAdvice(model, photo) {
  const advice = [];
  if (model !== MOST_ACCURATE && state.models.some((offered) => offered.name === MOST_ACCURATE)) {
    advice.push(h("p", {}, `${modelTitle(model)} misses faces that ${modelTitle(MOST_ACCURATE)} finds, `
      + "especially small or turned ones."),
    h("button", { class: "button", type: "button", onclick: () => tryOtherModel(MOST_ACCURATE) },
      `Try with ${modelTitle(MOST_ACCURATE)}`));
  } else if (Math.max(photo.naturalWidth, photo.naturalHeight) < SMALL_PHOTO_SIDE) {
    advice.push(h("p", {}, "This photo is small, so its faces are only a few pixels wide. Try a larger photo."));
  } else {
    advice.push(h("p", {}, "Faces in profile, covered, blurred or in the dark are often missed. "
      + "Try a photo where faces look towards the camera in good light."));
  }
  return advice;
}

function renderResult(answer, photoUrl, saving) {
  const seconds = (answer.timings_ms.total / 1000).toFixed(2);
  const meta = `${modelTitle(answer.model)} · ${seconds} s on the server`;
  if (!answer.found) {
    result.replaceChildren(h("div", { class: "empty-state" },
      h("h2", {}, "No faces found"),
      noFaceAdvice(answer.model, preview),
      h("p", { class: "muted" }, meta),
      savedNote(answer, saving)));
  } else {
    result.replaceChildren(
      h("header", { class: "result__header" },
        h("h2", {}, facesCountText(answer.faces.length)),
        h("p", { class: "muted" }, meta)),
      savedNote(answer, saving),
      downloadLinks(answer, state.done.file.name),
      predictionView(answer, photoUrl));
  }
  show(result);
  result.scrollIntoView({ behavior: "smooth", block: "start" });
}

function updateRerun() {
  const stale = state.done && state.done.file === state.file && state.done.model !== state.model;
  rerun.textContent = `Run again with ${modelTitle(state.model)}`;
  show(rerun, Boolean(stale));
}

async function analyse() {
  const { file, model } = state;
  if (!file || !model) return;
  state.run?.abort();
  const run = new AbortController();
  state.run = run;
  setMessage(message, "");
  show(retry, false);
  show(rerun, false);
  show(result, false);
  // The session is restored in the background (Firebase reads it from storage): a photo chosen before it is known
  // waits for it, rather than going unsaved for a signed-in person.
  await userKnown;
  const saving = Boolean(state.user) && saveSwitch.checked;
  const started = performance.now();
  const label = `Finding faces with ${modelTitle(model)}…`;
  const ticker = setInterval(() => {
    const elapsed = performance.now() - started;
    const warming = elapsed > WARMING_AFTER_MS && !state.warmed.has(model) ? " Warming up the model, only the first time." : "";
    setBusy(`${label} ${(elapsed / 1000).toFixed(1)} s.${warming}`);
  }, 100);
  setBusy(label);
  try {
    const image = await photoDataUrl(file);
    // The plain endpoint stores nothing; the upload one saves for a signed-in caller.
    const answer = await api(saving ? "/predict_upload_api" : "/predict_api", {
      method: "POST", auth: saving, signal: run.signal, body: { image, model, img_name: file.name },
    });
    state.warmed.add(model);
    state.done = { file, model };
    renderResult(answer, image, saving);
  } catch (error) {
    if (error.name === "AbortError") return;
    setMessage(message, error.message);
    if (error instanceof PhotoError) {
      show(preview, false);
      show($("#dropzone-empty"));
      dropzone.classList.remove("dropzone--filled");
    } else {
      show(retry);
    }
  } finally {
    clearInterval(ticker);
    if (state.run === run) setBusy("");
  }
}

function choose(file) {
  if (!file) return;
  state.file = file;
  showPreview(file);
  updateNext();
  analyse();
}

// Several photos at once (a drop, a multiple pick, a paste): the first now, then each on "Next photo".
function chooseAll(files) {
  const photos = [...files];
  state.queue = photos.slice(1);
  state.batch = photos.length;
  choose(photos[0]);
}

// An example photo (hosting/examples) goes the way of a picked file: the same checks, model, saving and result.
async function chooseExample(url) {
  let photo;
  try {
    const reply = await fetch(url);
    if (!reply.ok) throw new Error(reply.statusText);
    photo = await reply.blob();
  } catch {
    setMessage(message, UNREACHABLE);
    return;
  }
  chooseAll([new File([photo], url.split("/").pop(), { type: photo.type })]);
}

function updateNext() {
  const [upcoming] = state.queue;
  show(next, Boolean(upcoming));
  if (upcoming) {
    next.textContent = `Next photo: ${upcoming.name} (${state.batch - state.queue.length + 1} of ${state.batch})`;
  }
}

function showModels() {
  const models = $("#models");
  models.replaceChildren(h("p", { class: "muted" }, "Loading models…"));
  loadModels().then(
    (offer) => {
      state.model = offer.chosen;
      state.models = offer.models;
      models.replaceChildren(modelPicker(offer, (name) => {
        state.model = name;
        // A photo not analysed yet runs with the new model; a shown result waits for "Run again".
        if (state.done?.file === state.file) updateRerun();
        else analyse();
      }));
      analyse();
    },
    // The picker's place keeps a way back: the list may load on a second try.
    (error) => models.replaceChildren(
      h("p", { class: "message message--error", role: "alert" }, error.message),
      h("button", { class: "button button--ghost", type: "button", onclick: showModels }, "Try again")),
  );
}

input.addEventListener("change", () => {
  chooseAll(input.files);
  // Cleared, so picking the same file again (after an error) is a change and runs again.
  input.value = "";
});
for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("dropzone--over");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropzone.addEventListener(type, () => dropzone.classList.remove("dropzone--over"));
}
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  chooseAll(event.dataTransfer.files);
});
// A screenshot or an image copied from another app, pasted anywhere on the page.
document.addEventListener("paste", (event) => {
  const images = [...(event.clipboardData?.files ?? [])].filter((file) => file.type.startsWith("image/"));
  if (!images.length) return;
  event.preventDefault();
  chooseAll(images);
});
for (const button of document.querySelectorAll("[data-example]")) {
  button.addEventListener("click", () => chooseExample(button.dataset.example));
}
next.addEventListener("click", () => choose(state.queue.shift()));
rerun.addEventListener("click", analyse);
retry.addEventListener("click", analyse);
enableScriptedControls();

function signedIn(user) {
  state.user = user;
  // On by default for a signed-in person; there is no history to save to when signed out.
  show($("#save-field"), Boolean(user));
}

renderHeader();
session.onChange(signedIn);
const userKnown = session.user().then(signedIn, () => signedIn(null));
showModels();

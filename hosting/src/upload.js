// Upload page (home): pick or drop a photo, choose a model, see each face's emotions.
import { api } from "./lib/api.js";
import { $, h, setMessage, show } from "./lib/dom.js";
import { facesCountText, predictionView } from "./lib/faces.js";
import { renderHeader } from "./lib/layout.js";
import { loadModels, modelPicker, modelTitle } from "./lib/models.js";
import { photoDataUrl, PhotoError } from "./lib/photo.js";
import { session } from "./lib/session.js";

const state = { file: null, model: null, run: null };
const input = $("#file");
const dropzone = $("#dropzone");
const preview = $("#preview");
const message = $("#message");
const result = $("#result");
const status = $("#status");

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

function savedNote(id, user) {
  if (id) {
    return h("p", { class: "message message--success", role: "status" },
      "Saved to your history. ", h("a", { href: `history.html#${id}` }, "Open it"));
  }
  if (!user) {
    return h("p", { class: "muted" },
      h("a", { href: "account.html?next=index.html" }, "Sign in"), " to keep your predictions in a history.");
  }
  return null;
}

function renderResult(answer, user) {
  const seconds = (answer.timings_ms.total / 1000).toFixed(2);
  const meta = `${modelTitle(answer.model)} · ${seconds} s on the server`;
  if (!answer.found) {
    result.replaceChildren(h("div", { class: "empty-state" },
      h("h2", {}, "No faces found"),
      h("p", {}, "Try a photo where faces are larger, well lit and turned towards the camera."),
      h("p", { class: "muted" }, meta)));
  } else {
    result.replaceChildren(
      h("header", { class: "result__header" },
        h("h2", {}, facesCountText(answer.faces.length)),
        h("p", { class: "muted" }, meta)),
      savedNote(answer.id, user),
      predictionView(answer));
  }
  show(result);
  result.scrollIntoView({ behavior: "smooth", block: "start" });
}

async function analyse() {
  const { file, model } = state;
  if (!file || !model) return;
  state.run?.abort();
  const run = new AbortController();
  state.run = run;
  setMessage(message, "");
  show(result, false);
  const started = performance.now();
  const label = `Finding faces with ${modelTitle(model)}…`;
  setBusy(label);
  const ticker = setInterval(() => setBusy(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`), 100);
  try {
    const image = await photoDataUrl(file);
    const answer = await api("/predict_upload_api", {
      method: "POST", auth: true, signal: run.signal, body: { image, model, img_name: file.name },
    });
    renderResult(answer, await session.user());
  } catch (error) {
    if (error.name !== "AbortError") setMessage(message, error.message);
    if (error instanceof PhotoError) {
      show(preview, false);
      show($("#dropzone-empty"));
      dropzone.classList.remove("dropzone--filled");
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
  analyse();
}

input.addEventListener("change", () => choose(input.files[0]));
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
  choose(event.dataTransfer.files[0]);
});

renderHeader();
loadModels().then(
  (offer) => {
    state.model = offer.chosen;
    $("#models").replaceChildren(
      modelPicker(offer, (name) => {
        state.model = name;
        analyse();
      }),
      h("p", { class: "muted small" }, "Accuracy: share of test faces whose top emotion is right."));
    analyse();
  },
  (error) => setMessage($("#models"), error.message),
);

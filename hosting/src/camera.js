// Camera page: the live video with a box and label on every face, from predict_img_only_api, one frame at a time.
import { api } from "./lib/api.js";
import { $, enableScriptedControls, h, setMessage, show } from "./lib/dom.js";
import { capitalize, EMOTION_COLORS } from "./lib/faces.js";
import { renderHeader } from "./lib/layout.js";
import { cameraMessage, NO_CAMERA_API } from "./lib/messages.js";
import { loadModels, modelSelect } from "./lib/models.js";
import { canvasToJpeg } from "./lib/photo.js";
import { session } from "./lib/session.js";

// Faces stay well above the detectors' minimum size at this side, and a frame is then a ~30 KB JPEG.
const FRAME_SIDE = 480;
const FPS_WINDOW_MS = 3000;
const RETRY_MS = 1500;
const FRAMES_IN_FLIGHT = 2;
// The spoken list of faces changes at most this often: every frame would talk over itself.
const ANNOUNCE_MS = 3000;

const video = $("#video");
const overlay = $("#overlay");
const message = $("#camera-message");
const frame = document.createElement("canvas");
const state = {
  stream: null, running: false, model: null, done: [], user: null, announced: { at: 0, text: "" }, sent: 0, shown: 0,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setRunning(running) {
  state.running = running;
  show($("#start"), !running);
  show($("#stop"), running);
  show(video, running);
  show($("#placeholder"), !running);
  $("#snapshot").disabled = !running;
  $("#stage").classList.toggle("stage--live", running);
}

function resetStats() {
  state.done = [];
  for (const id of ["#fps", "#latency", "#faces"]) $(id).textContent = "–";
}

function drawBoxes(faces, scale) {
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;
  overlay.dataset.faces = String(faces.length);
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  // Sizes in screen pixels, whatever the ratio between the video's pixels and its size on the page.
  const perCssPixel = overlay.width / (overlay.clientWidth || overlay.width);
  const line = 2.5 * perCssPixel;
  const fontSize = Math.round(15 * perCssPixel);
  ctx.font = `600 ${fontSize}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (const face of faces) {
    const [x, y, w, height] = face.box.map((value) => value * scale);
    // The video is shown mirrored, like a mirror; the boxes must be too.
    const left = overlay.width - x - w;
    const { emotion, probability } = face.prediction[0];
    const color = EMOTION_COLORS[emotion] ?? "#fff";
    ctx.lineWidth = line;
    ctx.strokeStyle = color;
    ctx.strokeRect(left, y, w, height);
    const label = `${capitalize(emotion)} ${Math.round(probability * 100)}%`;
    const padding = line * 2;
    const labelHeight = fontSize + padding * 2;
    const labelTop = y - labelHeight >= 0 ? y - labelHeight : y + height;
    ctx.fillStyle = color;
    ctx.fillRect(left - line / 2, labelTop, ctx.measureText(label).width + padding * 2, labelHeight);
    // Black, as the annotator draws its labels: the palette keeps black text readable on every emotion's colour.
    ctx.fillStyle = "#000";
    ctx.fillText(label, left - line / 2 + padding, labelTop + padding);
  }
}

// The faces in words, left to right as the person in front of the mirrored video sees them.
function describeFaces(faces) {
  const now = performance.now();
  const items = [...faces].sort((a, b) => b.box[0] - a.box[0]).map(({ prediction: [top] }) =>
    `${capitalize(top.emotion)}, ${Math.round(top.probability * 100)}%`);
  const text = items.join("; ");
  if (text === state.announced.text || now - state.announced.at < ANNOUNCE_MS) return;
  state.announced = { at: now, text };
  $("#live-faces").replaceChildren(...(items.length
    ? items.map((item, index) => h("li", {}, `Face ${index + 1}: ${item}`))
    : [h("li", {}, "No face in view.")]));
}

function showFaces(faces, scale) {
  drawBoxes(faces, scale);
  describeFaces(faces);
}

function clearBoxes() {
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
  overlay.dataset.faces = "0";
}

function recordFrame(latency, faces) {
  const now = performance.now();
  state.done = state.done.filter((time) => now - time < FPS_WINDOW_MS).concat(now);
  const span = Math.min(FPS_WINDOW_MS, now - state.done[0]) / 1000;
  $("#fps").textContent = state.done.length > 1 && span > 0 ? `${((state.done.length - 1) / span).toFixed(1)} fps` : "…";
  $("#latency").textContent = `${Math.round(latency)} ms`;
  $("#faces").textContent = String(faces);
}

async function grab(maxSide, quality) {
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  frame.width = Math.round(video.videoWidth * scale);
  frame.height = Math.round(video.videoHeight * scale);
  frame.getContext("2d").drawImage(video, 0, 0, frame.width, frame.height);
  return { image: await canvasToJpeg(frame, quality), scale };
}

// Frames go as the JPEG itself (the options in the query string): no base64 to make here or to undo on the server.
function predictPath(endpoint, options = {}) {
  return `${endpoint}?${new URLSearchParams({ model: state.model ?? "", ...options })}`;
}

// Each sender takes a frame when the answer to its last one is in. Two of them keep two frames in flight: while
// the server reads one, the page grabs and sends the next, so neither side waits for the other.
async function sendFrames() {
  while (state.running) {
    if (document.hidden || !video.videoWidth) {
      await sleep(200);
      continue;
    }
    const started = performance.now();
    const number = ++state.sent;
    try {
      const { image, scale } = await grab(FRAME_SIDE, 0.8);
      // No token: live frames are never saved; "Save snapshot" saves on purpose.
      const answer = await api(predictPath("/predict_img_only_api"), { method: "POST", body: image });
      if (!state.running) break;
      // A frame answered after a newer one would move the boxes back in time.
      if (number < state.shown) continue;
      state.shown = number;
      const faces = answer.faces ?? [];
      showFaces(faces, 1 / scale);
      recordFrame(performance.now() - started, faces.length);
      if (message.dataset.source === "loop") setMessage(message, "");
    } catch (error) {
      setMessage(message, error.message);
      message.dataset.source = "loop";
      await sleep(RETRY_MS);
    }
  }
}

function loop() {
  return Promise.all(Array.from({ length: FRAMES_IN_FLIGHT }, sendFrames));
}

async function start() {
  setMessage(message, "");
  if (!navigator.mediaDevices?.getUserMedia) {
    setMessage(message, NO_CAMERA_API);
    return;
  }
  $("#start").disabled = true;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
  } catch (error) {
    setMessage(message, cameraMessage(error));
    return;
  } finally {
    $("#start").disabled = false;
  }
  video.srcObject = state.stream;
  setRunning(true);
  await video.play();
  $("#stage").style.setProperty("--ratio", String(video.videoWidth / video.videoHeight || 4 / 3));
  resetStats();
  loop();
}

function stop() {
  setRunning(false);
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
  video.srcObject = null;
  clearBoxes();
  resetStats();
  state.announced = { at: 0, text: "" };
  $("#live-faces").replaceChildren(h("li", { class: "muted" }, "The camera is off."));
}

async function saveSnapshot() {
  const button = $("#snapshot");
  button.disabled = true;
  try {
    const { image } = await grab(1920, 0.9);
    const name = `Camera ${new Date().toLocaleString()}.jpg`;
    const answer = await api(predictPath("/predict_upload_api", { img_name: name }), {
      method: "POST", auth: true, body: image });
    message.dataset.source = "snapshot";
    setMessage(message, "Snapshot saved to your history. ", "success");
    message.append(h("a", { href: `history.html#${answer.id}` }, "Open it"));
  } catch (error) {
    setMessage(message, error.message);
  } finally {
    button.disabled = !state.running;
  }
}

function showUser(user) {
  state.user = user;
  show($("#snapshot"), Boolean(user));
}

$("#start").addEventListener("click", start);
$("#stop").addEventListener("click", stop);
$("#snapshot").addEventListener("click", saveSnapshot);
enableScriptedControls();

renderHeader();
session.onChange(showUser);
session.user().then(showUser, () => showUser(null));
loadModels().then(
  (offer) => {
    state.model = offer.chosen;
    $("#model-slot").replaceChildren(h("label", { class: "field field--inline" }, "Model",
      modelSelect(offer, (name) => { state.model = name; })));
  },
  (error) => setMessage(message, error.message),
);

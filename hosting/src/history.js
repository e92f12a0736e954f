// History page: my saved predictions, newest first, with a chart, paging, an opened view and deletion.
import { api } from "./lib/api.js";
import { emotionChart, emotionsByDay } from "./lib/chart.js";
import { $, formatDate, h, jpegSrc, setMessage, show } from "./lib/dom.js";
import { downloadLinks, emotionChip, facesCountText, predictionView, topEmotion } from "./lib/faces.js";
import { renderHeader } from "./lib/layout.js";
import { modelTitle } from "./lib/models.js";
import { session } from "./lib/session.js";
import { zipBlob } from "./lib/zip.js";

const PAGE_SIZE = 24;
const CHIPS_SHOWN = 4;
const state = { items: [], cursor: null, openId: null };
const grid = $("#history-grid");
const message = $("#history-message");
const loadMore = $("#load-more");
const detail = $("#detail");

// One chip per emotion with its count ("Happy 3"), most frequent first: a tag repeated per face said less, longer.
function emotionCounts(faces) {
  const counts = new Map();
  for (const face of faces) {
    const { emotion } = topEmotion(face);
    counts.set(emotion, (counts.get(emotion) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function itemCard(item) {
  const counts = emotionCounts(item.faces);
  const more = counts.length - CHIPS_SHOWN;
  const name = item.img_name || "Photo";
  // Named by its visible text (file name, date, model, faces, emotions), which speech input users can say.
  return h("button", { class: "history-item", type: "button", "data-id": item.id, onclick: () => openItem(item.id) },
  h("img", { class: "history-item__thumb", src: jpegSrc(item.thumbnail), alt: "", loading: "lazy" }),
  h("span", { class: "history-item__body" },
    h("span", { class: "history-item__name", title: name }, name),
    h("span", { class: "history-item__date" }, formatDate(item.created_at)),
    h("span", { class: "history-item__meta" }, `${modelTitle(item.model)} · ${facesCountText(item.faces.length)}`),
    h("span", { class: "history-item__chips" },
      counts.slice(0, CHIPS_SHOWN).map(([emotion, count]) => emotionChip(emotion, count)),
      more > 0 ? h("span", { class: "chip" }, `+${more} more`) : null)));
}

function render() {
  const count = state.items.length;
  $("#history-summary").textContent = count
    ? `${count}${state.cursor ? "+" : ""} saved ${count === 1 ? "prediction" : "predictions"}, newest first`
    : "Nothing saved yet.";
  show($("#delete-all"), count > 0);
  show($("#export-all"), count > 0);
  show(loadMore, Boolean(state.cursor));
  if (!count) {
    grid.replaceChildren(h("div", { class: "empty-state panel" },
      h("h2", {}, "No predictions yet"),
      h("p", { class: "muted" }, "Photos you analyse while signed in appear here."),
      h("a", { class: "button", href: "./" }, "Analyse a photo")));
  } else {
    grid.replaceChildren(...state.items.map(itemCard));
  }
  const days = emotionsByDay(state.items);
  show($("#chart"), days.length > 0);
  if (days.length) {
    $("#chart-caption").textContent =
      `Each face in your ${count} latest saved photos, counted under its top emotion, per day.`;
    const width = Math.min(720, Math.max(300, $("#chart-body").clientWidth));
    $("#chart-body").replaceChildren(emotionChart(days, width));
  }
}

async function loadPage() {
  loadMore.disabled = true;
  try {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (state.cursor) query.set("cursor", state.cursor);
    const page = await api(`/history_api?${query}`, { auth: true });
    state.items.push(...page.items);
    state.cursor = page.next_cursor;
    render();
  } catch (error) {
    setMessage(message, error.message);
  } finally {
    loadMore.disabled = false;
  }
}

async function openItem(id) {
  state.openId = id;
  if (location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
  $("#detail-title").textContent = "Loading…";
  $("#detail-meta").textContent = "";
  $("#detail-body").replaceChildren(h("div", { class: "progress" }, h("span")));
  if (!detail.open) detail.showModal();
  try {
    const record = await api(`/history_api?id=${encodeURIComponent(id)}`, { auth: true });
    if (state.openId !== id) return;
    $("#detail-title").textContent = record.img_name || "Photo";
    $("#detail-meta").textContent =
      `${formatDate(record.created_at)} · ${modelTitle(record.model)} · ${facesCountText(record.faces.length)}`;
    $("#detail-body").replaceChildren(downloadLinks(record, record.img_name), record.faces.length
      ? predictionView(record, jpegSrc(record.original))
      : h("figure", { class: "prediction__photo" }, h("img", { src: jpegSrc(record.image), alt: "The photo" })));
  } catch (error) {
    $("#detail-title").textContent = "Could not open this prediction";
    $("#detail-body").replaceChildren(h("p", { class: "message message--error", role: "alert" }, error.message));
  }
}

function closeDetail() {
  state.openId = null;
  history.replaceState(null, "", location.pathname + location.search);
  if (detail.open) detail.close();
}

async function deleteOpen() {
  const id = state.openId;
  const button = $("#detail-delete");
  button.disabled = true;
  try {
    await api(`/history_api?id=${encodeURIComponent(id)}`, { method: "DELETE", auth: true });
    state.items = state.items.filter((item) => item.id !== id);
    closeDetail();
    render();
    setMessage(message, "The prediction was deleted.", "success");
  } catch (error) {
    setMessage(message, error.message);
    closeDetail();
  } finally {
    button.disabled = false;
  }
}

async function deleteAll() {
  try {
    const { deleted } = await api("/history_api?all=true", { method: "DELETE", auth: true });
    state.items = [];
    state.cursor = null;
    render();
    setMessage(message, `${deleted} ${deleted === 1 ? "prediction was" : "predictions were"} deleted.`, "success");
  } catch (error) {
    setMessage(message, error.message);
  }
}

const base64Bytes = (text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

// Everything saved, as one zip made here from the history API: history.json (each record, its faces' boxes and
// emotions) and both photos of each record, named by its id.
async function exportAll() {
  const button = $("#export-all");
  button.disabled = true;
  setMessage(message, "Preparing your export…", "info");
  try {
    const ids = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: 100, ...(cursor ? { cursor } : {}) });
      const page = await api(`/history_api?${query}`, { auth: true });
      ids.push(...page.items.map((item) => item.id));
      cursor = page.next_cursor;
    } while (cursor);
    const records = [];
    const files = [];
    for (const id of ids) {
      const { image, original, faces, ...record } = await api(`/history_api?id=${encodeURIComponent(id)}`, { auth: true });
      records.push({ ...record, faces: faces.map(({ face, ...kept }) => kept),
        original: `images/${id}-original.jpg`, annotated: `images/${id}-annotated.jpg` });
      files.push({ name: `images/${id}-original.jpg`, data: base64Bytes(original) },
        { name: `images/${id}-annotated.jpg`, data: base64Bytes(image) });
    }
    const json = new TextEncoder().encode(JSON.stringify({ exported_at: new Date().toISOString(), records }, null, 2));
    const link = h("a", { href: URL.createObjectURL(zipBlob([{ name: "history.json", data: json }, ...files])),
      download: `moodlens-history-${new Date().toISOString().slice(0, 10)}.zip` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    setMessage(message, `Exported ${records.length} ${records.length === 1 ? "prediction" : "predictions"}.`, "success");
  } catch (error) {
    setMessage(message, error.message);
  } finally {
    button.disabled = false;
  }
}

function signedOut() {
  state.items = [];
  state.cursor = null;
  show($("#delete-all"), false);
  show($("#export-all"), false);
  show($("#chart"), false);
  show(loadMore, false);
  $("#history-summary").textContent = "Your saved predictions, on every device you sign in on.";
  grid.replaceChildren(h("div", { class: "empty-state panel" },
    h("h2", {}, "Sign in to see your history"),
    h("p", { class: "muted" }, "Every photo you analyse while signed in is kept here, visible only to you."),
    h("div", { class: "actions actions--center" },
      h("a", { class: "button", href: "account.html?next=history.html" }, "Sign in"),
      h("a", { class: "button button--ghost", href: "account.html?mode=signup&next=history.html" }, "Create account"))));
}

// Escape closes a dialog without touching returnValue: cleared first, an earlier "confirm" cannot delete again.
function askFirst(dialog) {
  dialog.returnValue = "";
  dialog.showModal();
}

// Links to history.html#<id> (the upload page's "Open it") also work on this page itself.
window.addEventListener("hashchange", () => {
  const id = location.hash.slice(1);
  if (id && id !== state.openId && shownUser) openItem(id);
});
loadMore.addEventListener("click", loadPage);
$("#detail-close").addEventListener("click", closeDetail);
$("#detail-delete").addEventListener("click", () => askFirst($("#confirm-one")));
$("#confirm-one").addEventListener("close", () => $("#confirm-one").returnValue === "confirm" && deleteOpen());
detail.addEventListener("close", () => state.openId && closeDetail());
detail.addEventListener("click", (event) => event.target === detail && closeDetail());
$("#delete-all").addEventListener("click", () => askFirst($("#confirm-all")));
$("#export-all").addEventListener("click", exportAll);
$("#confirm-all").addEventListener("close", () => $("#confirm-all").returnValue === "confirm" && deleteAll());

renderHeader();
let shownUser;
async function start(user) {
  if (user?.uid === shownUser?.uid && user) return;
  shownUser = user;
  setMessage(message, "");
  if (!user) return signedOut();
  await loadPage();
  const opened = location.hash.slice(1);
  if (opened) openItem(opened);
}
session.onChange(start);
session.user().then(start, (error) => setMessage(message, error.message));

// One card per face: its crop and a bar for each of the seven emotions, the most probable first.
import palette from "../../../functions/moodlens/palette.json";
import { formatPercent, h, jpegSrc } from "./dom.js";

// palette.json lists the emotions in the model cards' class order (a test holds it to moodlens.modelcard.EMOTIONS).
export const EMOTIONS = Object.keys(palette);

// The annotator that draws boxes into the returned JPEG reads the same file, so a face has one colour on the photo
// and on the page. Both draw label text in black on these colours: each keeps black at 4.5:1 or more (WCAG AA).
export const EMOTION_COLORS = palette;

export const capitalize = (word) => word.charAt(0).toUpperCase() + word.slice(1);

export function topEmotion(face) {
  return face.prediction[0];
}

// An emotion and how many faces showed it ("Happy 3").
export function emotionChip(emotion, count) {
  return h("span", { class: "chip", style: `--emotion: ${EMOTION_COLORS[emotion] ?? "#888"}` },
    h("span", { class: "chip__dot", "aria-hidden": "true" }), `${capitalize(emotion)} ${count}`);
}

function bar({ emotion, probability }) {
  return h("li", { class: "bar", style: `--emotion: ${EMOTION_COLORS[emotion] ?? "#888"}` },
    h("span", { class: "bar__label" }, capitalize(emotion)),
    h("span", { class: "bar__track", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": (probability * 100).toFixed(1), "aria-label": capitalize(emotion) },
    h("span", { class: "bar__fill", style: `width: ${(probability * 100).toFixed(1)}%` })),
    h("span", { class: "bar__value" }, formatPercent(probability)));
}

// A top emotion below 40% is a guess among seven: a caveat whatever the face.
const UNCERTAIN_BELOW = 0.4;
// More faces than this and each card shrinks to its number, crop and top emotion (the bars fold away).
const COMPACT_FROM = 7;
// The answer's quality reasons (moodlens/predict/quality.py: limits measured on FER2013 faces shrunk and blurred).
const WEAK_READS = {
  small_face: (quality) => `Small face (${quality.face_px} px): hard to read`,
  low_detail: () => "Blurred face: hard to read",
};

function cardNotes(face, top) {
  const quality = face.quality;
  return [
    top.probability < UNCERTAIN_BELOW
      ? h("span", { class: "badge badge--uncertain", title: "The top emotion is under 40%: a weak call" }, "Uncertain")
      : null,
    ...(quality?.reasons ?? []).filter((reason) => reason in WEAK_READS)
      .map((reason) => h("span", { class: "badge badge--warning" }, WEAK_READS[reason](quality))),
  ];
}

function faceCard(face, index, compact) {
  const top = topEmotion(face);
  const number = index + 1;
  const bars = h("ol", { class: "bars" }, face.prediction.map(bar));
  // tabindex: keyboard users reach each card, and focusing one highlights its box on the photo.
  return h("article", { class: "face-card", tabindex: "0", "data-face": number,
    "aria-label": `Face ${number}: ${capitalize(top.emotion)}, ${formatPercent(top.probability)}`,
    style: `--emotion: ${EMOTION_COLORS[top.emotion] ?? "#888"}` },
  h("header", { class: "face-card__header" },
    h("span", { class: "face-number", "aria-hidden": "true" }, String(number)),
    face.face ? h("img", { class: "face-card__crop", src: jpegSrc(face.face), alt: "" }) : null,
    h("div", {},
      h("p", { class: "face-card__index" }, `Face ${number}`),
      h("p", { class: "face-card__top" }, capitalize(top.emotion)),
      h("p", { class: "face-card__probability" }, `${formatPercent(top.probability)} sure`))),
  h("p", { class: "face-card__notes" }, cardNotes(face, top)),
  compact ? h("details", { class: "face-card__more" }, h("summary", {}, "All emotions"), bars) : bars);
}

// Hovering or focusing a card lights its box, and a box its card: one class on both, within this result only.
function linkBoxesAndCards(root) {
  const light = (number) => {
    for (const el of root.querySelectorAll("[data-face]")) {
      el.classList.toggle("is-active", number != null && el.dataset.face === number);
    }
  };
  for (const el of root.querySelectorAll("[data-face]")) {
    el.addEventListener("mouseenter", () => light(el.dataset.face));
    // The pointer leaving gives the highlight back to the card that has keyboard focus, if any.
    el.addEventListener("mouseleave", () => light(root.querySelector(".face-card:focus")?.dataset.face));
    el.addEventListener("focusin", () => light(el.dataset.face));
    el.addEventListener("focusout", () => light(null));
  }
  for (const box of root.querySelectorAll(".face-box")) {
    box.addEventListener("click", () => {
      const card = root.querySelector(`.face-card[data-face="${box.dataset.face}"]`);
      card.scrollIntoView({ block: "nearest" });
      card.focus({ preventScroll: true });
    });
  }
}

// Boxes drawn by the page over the clean photo, in percent of its size: crisp at any zoom, and their numbers keep
// their size on a phone. The cards carry the same information for screen readers, so the layer is hidden from them.
function boxOverlay(img, faces) {
  const layer = h("div", { class: "face-layer", "aria-hidden": "true" });
  const place = () => {
    const { naturalWidth: width, naturalHeight: height } = img;
    layer.replaceChildren(...faces.map((face, index) => {
      const [x, y, w, hgt] = face.box;
      const color = EMOTION_COLORS[topEmotion(face).emotion] ?? "#888";
      return h("div", { class: "face-box", "data-face": index + 1,
        style: `--emotion: ${color}; left: ${(100 * x) / width}%; top: ${(100 * y) / height}%; `
          + `width: ${(100 * w) / width}%; height: ${(100 * hgt) / height}%` },
      h("span", { class: "face-number" }, String(index + 1)));
    }));
    linkBoxesAndCards(layer.closest(".prediction"));
  };
  if (img.complete && img.naturalWidth) queueMicrotask(place);
  else img.addEventListener("load", place, { once: true });
  return layer;
}

function faceCards(faces) {
  const compact = faces.length >= COMPACT_FROM;
  return h("div", { class: `face-grid${compact ? " face-grid--compact" : ""}` },
    faces.map((face, index) => faceCard(face, index, compact)));
}

// The photo with a numbered box on each face, beside the face cards: the upload result and an opened history entry
// look alike. `photo`: the clean photo's URL, the one the boxes were found on (the API's faces come in reading
// order, left to right then top to bottom, like the numbers drawn into its annotated JPEG).
export function predictionView(prediction, photo) {
  const img = h("img", { src: photo, alt: `The photo, with a numbered box on each of its ${prediction.faces.length} faces` });
  return h("div", { class: "prediction" },
    h("figure", { class: "prediction__photo" }, h("div", { class: "face-frame" }, img, boxOverlay(img, prediction.faces))),
    faceCards(prediction.faces));
}

// The result as files: the annotated JPEG the API drew, and its JSON without the pictures (boxes, emotions, model).
export function downloadLinks(result, photoName) {
  const base = (photoName || "photo").replace(/\.[^.]*$/, "");
  const { image, original, thumbnail, ...rest } = result;
  const data = { ...rest, faces: (result.faces ?? []).map(({ face, ...kept }) => kept) };
  const json = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  return h("p", { class: "downloads" },
    image ? h("a", { class: "button button--small button--ghost", href: jpegSrc(image),
      download: `${base}-moodlens.jpg` }, "Download annotated image") : null,
    h("a", { class: "button button--small button--ghost", href: json, download: `${base}-moodlens.json` },
      "Download JSON"));
}

export function facesCountText(count) {
  return count === 1 ? "1 face found" : `${count} faces found`;
}

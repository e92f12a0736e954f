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

export function emotionChip(emotion, probability) {
  return h("span", { class: "chip", style: `--emotion: ${EMOTION_COLORS[emotion] ?? "#888"}` },
    h("span", { class: "chip__dot", "aria-hidden": "true" }),
    capitalize(emotion), probability == null ? null : ` ${formatPercent(probability)}`);
}

function bar({ emotion, probability }) {
  return h("li", { class: "bar", style: `--emotion: ${EMOTION_COLORS[emotion] ?? "#888"}` },
    h("span", { class: "bar__label" }, capitalize(emotion)),
    h("span", { class: "bar__track", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": (probability * 100).toFixed(1), "aria-label": capitalize(emotion) },
    h("span", { class: "bar__fill", style: `width: ${(probability * 100).toFixed(1)}%` })),
    h("span", { class: "bar__value" }, formatPercent(probability)));
}

export function faceCard(face, index) {
  const top = topEmotion(face);
  return h("article", { class: "face-card", style: `--emotion: ${EMOTION_COLORS[top.emotion] ?? "#888"}` },
    h("header", { class: "face-card__header" },
      face.face ? h("img", { class: "face-card__crop", src: jpegSrc(face.face), alt: `Face ${index + 1}` }) : null,
      h("div", {},
        h("p", { class: "face-card__index" }, `Face ${index + 1}`),
        h("p", { class: "face-card__top" }, capitalize(top.emotion)),
        h("p", { class: "face-card__probability" }, `${formatPercent(top.probability)} sure`))),
    h("ol", { class: "bars" }, face.prediction.map(bar)));
}

export function faceCards(faces) {
  return h("div", { class: "face-grid" }, faces.map(faceCard));
}

// The annotated photo beside its face cards: the upload result and an opened history entry look alike.
export function predictionView(prediction) {
  return h("div", { class: "prediction" },
    h("figure", { class: "prediction__photo" },
      h("img", { src: jpegSrc(prediction.image), alt: "The photo with a box and a label on each face" })),
    faceCards(prediction.faces));
}

export function facesCountText(count) {
  return count === 1 ? "1 face found" : `${count} faces found`;
}

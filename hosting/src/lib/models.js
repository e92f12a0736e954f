// The models on offer, as their cards describe them (/models_api): the pages never hard-code a model's figures.
import { api } from "./api.js";
import { formatPercent, h } from "./dom.js";
import { NO_MODELS } from "./messages.js";

const TITLES = { "inception-resnet": "Inception-ResNet", mobilenetv2: "MobileNetV2", yolo3: "YOLOv3" };
// What each model is good at, in plain words: the cards' descriptions are written for the people who train them.
const PLAIN = {
  "inception-resnet": ["Most accurate", "Finds each face first, then reads it. The best choice for most photos."],
  mobilenetv2: ["Fastest", "Finds each face first, then reads it; quicker, a little less accurate."],
  yolo3: ["Experimental: one pass", "Finds and reads faces in one go; reads expressions less reliably than the other two."],
};
const STORAGE_KEY = "moodlens.model";
export const MOST_ACCURATE = "inception-resnet";

export const modelTitle = (name) => TITLES[name] ?? name;

export async function loadModels() {
  const { models, default: fallback } = await api("/models_api");
  if (!models.length) throw new Error(NO_MODELS);
  const saved = localStorage.getItem(STORAGE_KEY);
  const names = models.map((model) => model.name);
  const chosen = [saved, fallback].find((name) => names.includes(name)) ?? names[0];
  return { models, chosen };
}

export function rememberModel(name) {
  localStorage.setItem(STORAGE_KEY, name);
}

// What the figure means: "49% accurate" alone reads like a pass mark.
export function accuracyMeaning(model) {
  if (typeof model.accuracy !== "number") return "Accuracy not measured yet.";
  return `Right about ${Math.round(model.accuracy * 10)} times in 10 on a standard test set of face crops `
    + `(${formatPercent(model.accuracy)}).`;
}

// Radio cards: each model with its one-line description and measured accuracy.
export function modelPicker({ models, chosen }, onChange) {
  return h("fieldset", { class: "model-picker" },
    h("legend", {}, "Model"),
    models.map((model) => h("label", { class: "model-option" },
      h("input", { type: "radio", name: "model", value: model.name, checked: model.name === chosen,
        onchange: () => { rememberModel(model.name); onChange(model.name); } }),
      h("span", { class: "model-option__body" },
        h("span", { class: "model-option__title" },
          h("strong", {}, PLAIN[model.name]?.[0] ?? modelTitle(model.name)),
          PLAIN[model.name] ? h("span", { class: "model-option__name" }, modelTitle(model.name)) : null),
        h("span", { class: "model-option__description" }, PLAIN[model.name]?.[1] ?? model.description),
        h("span", { class: "model-option__accuracy" }, accuracyMeaning(model))))));
}

// The compact form, for the camera page's toolbar.
export function modelSelect({ models, chosen }, onChange) {
  return h("select", { class: "select", "aria-label": "Model",
    onchange: (event) => { rememberModel(event.target.value); onChange(event.target.value); } },
  models.map((model) => h("option", { value: model.name, selected: model.name === chosen },
    PLAIN[model.name] ? `${PLAIN[model.name][0]} · ${modelTitle(model.name)}` : modelTitle(model.name))));
}

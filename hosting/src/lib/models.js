// The models on offer, as their cards describe them (/models_api): the pages never hard-code a model's figures.
import { api } from "./api.js";
import { formatPercent, h } from "./dom.js";
import { NO_MODELS } from "./messages.js";

const TITLES = { "inception-resnet": "Inception-ResNet", mobilenetv2: "MobileNetV2", yolo3: "YOLOv3" };
const STORAGE_KEY = "moodlens.model";

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

export function accuracyText(model) {
  return typeof model.accuracy === "number" ? `${formatPercent(model.accuracy)} accurate` : "accuracy not measured yet";
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
          h("strong", {}, modelTitle(model.name)),
          h("span", { class: "model-option__accuracy" }, accuracyText(model))),
        h("span", { class: "model-option__description" }, model.description)))));
}

// The compact form, for the camera page's toolbar.
export function modelSelect({ models, chosen }, onChange) {
  return h("select", { class: "select", "aria-label": "Model",
    onchange: (event) => { rememberModel(event.target.value); onChange(event.target.value); } },
  models.map((model) => h("option", { value: model.name, selected: model.name === chosen },
    `${modelTitle(model.name)} · ${accuracyText(model)}`)));
}

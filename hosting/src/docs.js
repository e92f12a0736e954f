// /docs: the API described by functions/moodlens/api/openapi.json (bundled at build time, so Firebase Hosting, which
// has no /openapi.json, shows it too), with a curl example per operation and a button to copy it.
import spec from "../../functions/moodlens/api/openapi.json";
import { $, h } from "./lib/dom.js";
import { renderHeader } from "./lib/layout.js";

// Preflight and HEAD repeat another operation: the page lists the ones a developer calls.
const SHOWN = ["get", "post", "delete"];

function resolve(node) {
  if (!node?.$ref) return node;
  return node.$ref.split("/").slice(1).reduce((at, key) => at[key], spec);
}

// The spec writes `code` in backticks: shown as code, every other character as text (no markup from the file).
function prose(text = "") {
  return text.split("`").map((part, index) => (index % 2 ? h("code", {}, part) : part));
}

const signedIn = (operation) => (operation.security ?? spec.security ?? []).some((rule) => "bearer" in rule);

function curl(path, method, operation) {
  const url = `${location.origin}${path}`;
  const lines = [`curl -X ${method.toUpperCase()} "${url}${method === "delete" ? "?id=RECORD_ID" : ""}"`];
  if (signedIn(operation)) lines.push(`-H "Authorization: Bearer $TOKEN"`);
  const body = resolve(operation.requestBody?.content?.["application/json"]?.schema);
  if (body?.properties?.image) {
    lines.push(`-H "Content-Type: application/json"`, `-d "{\\"image\\": \\"$(base64 -w0 photo.jpg)\\"}"`);
  } else if (body) {
    const example = body.example ?? Object.fromEntries((body.required ?? []).map((name) => [name, "..."]));
    lines.push(`-H "Content-Type: application/json"`, `-d '${JSON.stringify(example)}'`);
  }
  return lines.join(" \\\n  ");
}

function copyButton(text) {
  const button = h("button", { class: "button button--small button--ghost", type: "button" }, "Copy");
  button.addEventListener("click", () => navigator.clipboard.writeText(text).then(
    () => { button.textContent = "Copied"; },
    () => { button.textContent = "Select the text to copy it"; },
  ));
  return button;
}

function fields(title, rows) {
  if (!rows.length) return null;
  return h("div", {}, h("h4", {}, title), h("dl", { class: "docs-fields" }, rows.map(([name, required, text]) =>
    h("div", {}, h("dt", {}, h("code", {}, name), required ? h("span", { class: "muted" }, " required") : null),
      h("dd", {}, prose(text))))));
}

function operationView(path, method, operation) {
  const id = `${method}-${path.slice(1)}`;
  const example = curl(path, method, operation);
  const body = resolve(operation.requestBody?.content?.["application/json"]?.schema);
  const params = (operation.parameters ?? []).map(resolve);
  return h("section", { class: "docs-op panel", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, h("code", {}, `${method.toUpperCase()} ${path}`)),
    h("p", {}, prose(operation.summary)),
    operation.description ? h("p", { class: "muted" }, prose(operation.description)) : null,
    h("p", { class: "small" }, signedIn(operation)
      ? (operation.security.some((rule) => !Object.keys(rule).length)
        ? "Sign-in optional: send a token to act as that account."
        : "Sign-in required: Authorization: Bearer <token>.")
      : "No sign-in needed."),
    fields("Query parameters", params.map((param) => [param.name, param.required, param.description])),
    fields("JSON body", Object.entries(body?.properties ?? {}).map(([name, schema]) =>
      [name, (body.required ?? []).includes(name), schema.description])),
    fields("Answers", Object.entries(operation.responses ?? {}).map(([status, answer]) =>
      [status, false, resolve(answer).description])),
    h("div", { class: "docs-example" }, h("pre", {}, h("code", {}, example)), copyButton(example)));
}

renderHeader();
$("#docs-intro").replaceChildren(...prose(spec.info.description));
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  SHOWN.filter((method) => item[method]).map((method) => [path, method, item[method]]));
$("#docs-index").replaceChildren(...operations.map(([path, method, operation]) =>
  h("li", {}, h("a", { href: `#${method}-${path.slice(1)}` }, h("code", {}, `${method.toUpperCase()} ${path}`)),
    " ", prose(operation.summary))));
$("#docs-body").replaceChildren(...operations.map((operation) => operationView(...operation)));

// Tiny element builder: pages build their DOM from data without a framework or innerHTML (no injection).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    // Through the CSSOM: the Content-Security-Policy refuses style attributes written as markup.
    else if (key === "style") el.style.cssText = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat(Infinity).filter((child) => child != null && child !== false));
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Controls that work only through a page's script are disabled in its markup: a click before the script has loaded
// would do nothing, and Enter in the sign-in form would send the password in the address. The page enables them
// once its handlers are bound.
export function enableScriptedControls() {
  for (const el of document.querySelectorAll("[data-enabled-by-script]")) el.disabled = false;
}

export function show(el, visible = true) {
  el.hidden = !visible;
  return el;
}

// role=alert / role=status regions announce the text to screen readers as it changes.
export function setMessage(el, text, kind = "error") {
  el.className = `message message--${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.textContent = text;
  show(el, Boolean(text));
}

export function jpegSrc(base64) {
  return `data:image/jpeg;base64,${base64}`;
}

export function formatPercent(probability) {
  const percent = probability * 100;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

export function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

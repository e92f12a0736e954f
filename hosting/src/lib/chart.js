// Faces over time: for each day, how many faces in the saved photos had each top emotion, as a stacked bar of counts
// (a share would draw every day at 100%). Every day of the range gets its slot, so a day without photos shows as one.
import { h } from "./dom.js";
import { capitalize, EMOTION_COLORS, EMOTIONS, topEmotion } from "./faces.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DAYS = 14;
const MIN_DAYS = 7;
// The room one date label needs, in the chart's pixels: closer slots label every second (third...) day only.
const LABEL_PX = 52;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  el.append(...children);
  return el;
}

function dayKey(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

const dayLabel = (day) => new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { month: "short", day: "numeric" });

/** Per local day, oldest first, every day from the first shown to the latest: {day, counts: {emotion: faces}, total}.
 * At least MIN_DAYS days, at most MAX_DAYS; [] when no saved photo has a face. */
export function emotionsByDay(items) {
  const days = new Map();
  for (const item of items) {
    for (const face of item.faces) {
      const key = dayKey(new Date(item.created_at));
      const entry = days.get(key) ?? { counts: {}, total: 0 };
      const { emotion } = topEmotion(face);
      entry.counts[emotion] = (entry.counts[emotion] ?? 0) + 1;
      entry.total += 1;
      days.set(key, entry);
    }
  }
  if (!days.size) return [];
  const keys = [...days.keys()].sort();
  const last = new Date(`${keys.at(-1)}T12:00:00`);
  const span = Math.round((last - new Date(`${keys[0]}T12:00:00`)) / 86_400_000) + 1;
  const count = Math.min(MAX_DAYS, Math.max(MIN_DAYS, span));
  return Array.from({ length: count }, (_, index) => {
    const date = new Date(last);
    date.setDate(last.getDate() - (count - 1 - index));
    const day = dayKey(date);
    return { day, ...(days.get(day) ?? { counts: {}, total: 0 }) };
  });
}

// Round numbers for the count axis: 0, the middle and the top, all whole faces.
function axisTop(most) {
  return most <= 4 ? Math.max(2, most + (most % 2)) : Math.ceil(most / 4) * 4;
}

// width: the space the chart gets on the page, so its labels keep their size on a phone.
export function emotionChart(days, width) {
  const height = 200;
  const top = 8;
  const bottom = 24;
  const plot = height - top - bottom;
  const left = 36;
  const slot = (width - left) / days.length;
  const barWidth = Math.min(40, slot * 0.6);
  const every = Math.ceil(LABEL_PX / slot);
  const peak = axisTop(Math.max(...days.map((day) => day.total)));
  const bars = days.map((day, index) => {
    const x = left + index * slot + (slot - barWidth) / 2;
    let y = top + plot;
    const segments = EMOTIONS.filter((emotion) => day.counts[emotion]).map((emotion) => {
      const size = (day.counts[emotion] / peak) * plot;
      y -= size;
      return svg("rect", { x, y, width: barWidth, height: size, fill: EMOTION_COLORS[emotion] },
        svg("title", {}, `${dayLabel(day.day)}: ${capitalize(emotion)}, ${day.counts[emotion]} of ${day.total} faces`));
    });
    // The latest day is always labelled; the others at the step that leaves each label its room.
    const labelled = (days.length - 1 - index) % every === 0;
    return svg("g", { class: "chart__day" }, ...segments, labelled
      ? svg("text", { x: x + barWidth / 2, y: height - 6, "text-anchor": "middle", class: "chart__label" }, dayLabel(day.day))
      : "");
  });
  const seen = EMOTIONS.filter((emotion) => days.some((day) => day.counts[emotion]));
  return h("div", { class: "chart" },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart__svg", role: "img",
      "aria-label": "Bar chart of the faces in your photos per day, by top emotion; the table below lists the numbers" },
      ...[0, 0.5, 1].map((share) => svg("g", {},
        svg("line", { x1: left, x2: width, y1: top + plot * (1 - share), y2: top + plot * (1 - share), class: "chart__axis" }),
        svg("text", { x: left - 6, y: top + plot * (1 - share) + 4, "text-anchor": "end", class: "chart__label chart__tick" },
          String(peak * share)))),
      ...bars),
    h("ul", { class: "chart__legend", "aria-hidden": "true" },
      seen.map((emotion) => h("li", { style: `--emotion: ${EMOTION_COLORS[emotion]}` },
        h("span", { class: "chip__dot" }), capitalize(emotion)))),
    chartTable(days, seen));
}

function chartTable(days, seen) {
  return h("details", { class: "chart__table" },
    h("summary", {}, "Show as a table"),
    h("table", {},
      h("caption", { class: "visually-hidden" }, "Faces per day, by top emotion"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"),
        seen.map((emotion) => h("th", { scope: "col" }, capitalize(emotion))), h("th", { scope: "col" }, "Faces"))),
      h("tbody", {}, days.map((day) => h("tr", {},
        h("th", { scope: "row" }, dayLabel(day.day)),
        seen.map((emotion) => h("td", {}, String(day.counts[emotion] ?? 0))),
        h("td", {}, String(day.total)))))));
}

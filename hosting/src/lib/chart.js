// Emotions over time: for each day, the share of faces whose top emotion was each of the seven, as a stacked bar.
import { h } from "./dom.js";
import { capitalize, EMOTION_COLORS, EMOTIONS, topEmotion } from "./faces.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DAYS = 14;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  el.append(...children);
  return el;
}

function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

/** Per local day, oldest first: {day, counts: {emotion: faces}, total}. */
export function emotionsByDay(items) {
  const days = new Map();
  for (const item of items) {
    const key = dayKey(item.created_at);
    const entry = days.get(key) ?? { day: key, counts: {}, total: 0 };
    for (const face of item.faces) {
      const { emotion } = topEmotion(face);
      entry.counts[emotion] = (entry.counts[emotion] ?? 0) + 1;
      entry.total += 1;
    }
    days.set(key, entry);
  }
  return [...days.values()].filter((day) => day.total).sort((a, b) => a.day.localeCompare(b.day)).slice(-MAX_DAYS);
}

// width: the space the chart gets on the page, so its labels keep their size on a phone.
export function emotionChart(days, width) {
  const height = 200;
  const top = 8;
  const bottom = 24;
  const plot = height - top - bottom;
  const left = 40;
  const slot = (width - left) / Math.max(days.length, 7);
  const barWidth = Math.min(48, slot * 0.6);
  // A few days sit in the middle rather than bunched on the left of an empty chart.
  const start = left + (width - left - slot * days.length) / 2;
  const bars = days.map((day, index) => {
    const x = start + index * slot + (slot - barWidth) / 2;
    let y = top + plot;
    const segments = EMOTIONS.filter((emotion) => day.counts[emotion]).map((emotion) => {
      const share = day.counts[emotion] / day.total;
      y -= share * plot;
      return svg("rect", { x, y, width: barWidth, height: share * plot, fill: EMOTION_COLORS[emotion] },
        svg("title", {}, `${day.day}: ${capitalize(emotion)} ${day.counts[emotion]} of ${day.total} faces`));
    });
    const label = new Date(`${day.day}T12:00:00`).toLocaleDateString(undefined, { month: "short", day: "numeric" });
    return svg("g", { class: "chart__day" }, ...segments,
      svg("text", { x: x + barWidth / 2, y: height - 6, "text-anchor": "middle", class: "chart__label" }, label));
  });
  const seen = EMOTIONS.filter((emotion) => days.some((day) => day.counts[emotion]));
  return h("div", { class: "chart" },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart__svg",
      "aria-label": "Share of each emotion among your faces, per day" },
    ...[0, 0.5, 1].map((share) => svg("g", {},
      svg("line", { x1: left, x2: width, y1: top + plot * (1 - share), y2: top + plot * (1 - share), class: "chart__axis" }),
      svg("text", { x: left - 6, y: top + plot * (1 - share) + 4, "text-anchor": "end", class: "chart__label" },
        `${share * 100}%`))),
    ...bars),
    h("ul", { class: "chart__legend" }, seen.map((emotion) => h("li", { style: `--emotion: ${EMOTION_COLORS[emotion]}` },
      h("span", { class: "chip__dot", "aria-hidden": "true" }), capitalize(emotion)))));
}

// The category axis of a bar chart whose labels must stay readable at any width: all labels shown
// when they fit their slot, else wrapped onto two lines, else turned and cut short (the tables
// beside the charts hold every label in full). Pure, so Node tests it.

// A label's width in pixels at a font size: CJK and full-width characters are about a square,
// the rest about half of one.
export function textWidth(text, fontSize = 12) {
  let width = 0;
  for (const char of String(text)) width += /[\u2E80-\uFFEF]/u.test(char) ? fontSize : fontSize * 0.6;
  return width;
}

// The axisLabel of ``labels`` along an axis ``width`` pixels wide, and the room (``bottom``, in
// pixels) the grid needs below the axis for them.
export function categoryLabels(labels, width, fontSize = 12) {
  const slot = Math.max(1, width / Math.max(1, labels.length));
  const widest = Math.max(0, ...labels.map((label) => textWidth(label, fontSize)));
  const base = { interval: 0, fontSize, hideOverlap: false };
  if (widest <= slot - 6) return { axisLabel: base, bottom: fontSize * 2.5 };
  if (widest <= (slot - 6) * 2 && slot >= fontSize * 3) {
    return { axisLabel: { ...base, width: slot - 6, overflow: "break", lineHeight: fontSize * 1.2 }, bottom: fontSize * 4 };
  }
  const room = Math.min(widest, fontSize * 9);
  return {
    axisLabel: { ...base, rotate: 40, width: room, overflow: "truncate" },
    bottom: Math.ceil(room * Math.sin((40 * Math.PI) / 180) + fontSize * 2),
  };
}

// The services of a chart of services: the counters' idle and wrap-up time (key "") is no service.
export function servicesOnly(groups) {
  return groups.filter((group) => group.key !== "");
}

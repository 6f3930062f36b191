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
  const halves = labels.map((label) => twoLines(label).split("\n"));
  const widestLine = Math.max(0, ...halves.flat().map((line) => textWidth(line, fontSize)));
  if (widestLine <= slot - 4 && slot >= fontSize * 3) {
    return {
      axisLabel: { ...base, formatter: twoLines, width: slot - 4, overflow: "break", lineHeight: fontSize * 1.2 },
      bottom: fontSize * 4,
    };
  }
  // Turned labels keep apart by the slot times the sine of their angle: the least angle that
  // leaves a line and a half between them.
  const sine = (degrees) => Math.sin((degrees * Math.PI) / 180);
  const rotate = [40, 60, 90].find((degrees) => slot * sine(degrees) >= fontSize * 1.5) ?? 90;
  const room = Math.min(widest, fontSize * 9);
  return {
    axisLabel: { ...base, rotate, width: room, overflow: "truncate" },
    bottom: Math.ceil(room * sine(rotate) + fontSize * 2),
  };
}

// A label on two lines, broken at the space nearest its middle ("10–20 分钟" → "10–20" and "分钟");
// a label without a space stays whole.
export function twoLines(label) {
  const text = String(label);
  const middle = text.length / 2;
  let best = -1;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === " " && (best < 0 || Math.abs(i - middle) < Math.abs(best - middle))) best = i;
  }
  return best < 0 ? text : `${text.slice(0, best)}\n${text.slice(best + 1)}`;
}

// The services of a chart of services: the counters' idle and wrap-up time (key "") is no service.
export function servicesOnly(groups) {
  return groups.filter((group) => group.key !== "");
}

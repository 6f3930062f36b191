// Table cells shared by the case lists and the supervision board: a case's light as a sign and a
// word (the colour only repeats them), and whose turn it is.
export function caseCells({ word, signs, hallNames, people }) {
  function cell(content, className) {
    const td = document.createElement("td");
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    if (className) td.className = className;
    return td;
  }

  function lightBadge(light) {
    const badge = document.createElement("span");
    badge.className = `light light-${light}`;
    const sign = document.createElement("span");
    sign.setAttribute("aria-hidden", "true");
    sign.textContent = `${signs[light]} `;
    badge.append(sign, word(`light_${light}`));
    return badge;
  }

  function waitingOn(item) {
    if (item.paused) return word("paused");
    if (!item.waiting_on) return word("finished");
    const parts = [
      word(`next_${item.stage}`),
      word(`role_${item.waiting_on.role}`),
      hallNames[item.waiting_on.hall] ?? `#${item.waiting_on.hall}`,
    ];
    if (item.assignee !== null && item.assignee !== undefined) {
      parts.push(word("assigned").replace("{name}", people[item.assignee] ?? `#${item.assignee}`));
    }
    return parts.join(" · ");
  }

  return { cell, lightBadge, waitingOn };
}

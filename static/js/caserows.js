import { fill } from "./page.js";

// What the case lists and the supervision board show alike: a case's light as a sign and a word
// (the colour only repeats them), and whose turn it is.
export function caseCells({ word, signs, hallNames, people }) {
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
      parts.push(fill(word("assigned"), { name: people[item.assignee] ?? `#${item.assignee}` }));
    }
    return parts.join(" · ");
  }

  return { lightBadge, waitingOn };
}

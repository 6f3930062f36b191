import { fill } from "./page.js";

// What the case lists and the supervision board show alike: a case's light as a sign and a word
// (the colour only repeats them) saying what it is for, the case's deadline or its stage's
// (环节超时) with that clock's due time, and whose turn it is.
export function caseCells({ word, signs, hallNames, people, when = (iso) => iso }) {
  function lightBadge(item) {
    const light = item.light_now ?? item.light;
    const badge = document.createElement("span");
    badge.className = `light light-${light}`;
    const sign = document.createElement("span");
    sign.setAttribute("aria-hidden", "true");
    sign.textContent = `${signs[light]} `;
    badge.append(sign, lightWord(item));
    const due = lightDue(item);
    if (due) {
      const note = document.createElement("small");
      note.className = "light-due";
      note.textContent = due;
      badge.append(" ", note);
    }
    return badge;
  }

  function stageName(item) {
    return word(`span_${item.light_stage}`, item.light_stage ?? "");
  }

  function lightWord(item) {
    const light = item.light_now ?? item.light;
    if (!item.light_for || light === "green") return word(`light_${light}`);
    return fill(word(`light_${item.light_for}_${light}`), { stage: stageName(item) });
  }

  function lightDue(item) {
    const light = item.light_now ?? item.light;
    if (!item.light_for || light === "green" || !item.light_due) return "";
    return fill(word(`light_${item.light_for}_due`), { stage: stageName(item), time: when(item.light_due) });
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

  return { lightBadge, lightWord, waitingOn };
}

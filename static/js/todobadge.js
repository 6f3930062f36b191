// The console's 待办 link counts the cases waiting on this clerk, and how many of them are yellow
// or red, live: it follows the hall's "cases" topic on the console's own realtime link and reads
// the to-do list again after each case event (debounced), and once a minute for lights that turn.
// Its words (todo_waiting, todo_red, todo_yellow) come with the console's own.
import { fill } from "./page.js";

export function followTodo(rt, link, word) {
  const badge = link.querySelector(".todo-count");
  let timer = null;

  async function count() {
    timer = null;
    const answer = await fetch(link.dataset.todoUrl, { credentials: "same-origin" });
    if (!answer.ok) return;
    const { cases } = await answer.json();
    const red = cases.filter((c) => c.light_now === "red").length;
    const yellow = cases.filter((c) => c.light_now === "yellow").length;
    const parts = [fill(word("todo_waiting"), { n: cases.length })];
    if (red) parts.push(`■ ${fill(word("todo_red"), { n: red })}`);
    if (yellow) parts.push(`▲ ${fill(word("todo_yellow"), { n: yellow })}`);
    badge.textContent = parts.join(" · ");
    badge.hidden = false;
    link.classList.toggle("has-red", red > 0);
  }

  function soon() {
    if (timer === null) timer = setTimeout(() => count().catch(() => {}), 500);
  }

  rt.subscribe(link.dataset.topic, {
    snapshot: soon,
    event(event) {
      if (event.type.startsWith("case.") || event.type.startsWith("supervision.")) soon();
    },
  });
  setInterval(soon, 60000);
}

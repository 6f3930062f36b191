// The 一事一评 work orders' buttons, shared by the wallboard and the counter console of a
// supervisor: a dialog asks for the written note, the step is POSTed (CSRF token, fresh command
// id) to the work order API, which checks the supervisor's role as it does for any caller. The
// board changes when the step's event comes back on the live link, not from the answer.
//
//   const ask = orderDialog({ dialog, word, error, say, url: "/api/v1/halls/1/work-orders/" });
//   ask(order, "callback");                 // then "resolve"
//   followWorkOrders(rt, root, { word, error, say, counter: 3 });  // the console's own orders
import { cell, fill } from "./page.js";
import { post } from "./staffpage.js";
import { boardOf, dayText, fold, nextStep } from "./wallboardview.js";

export function orderDialog({ dialog, word, error, say, url }) {
  const form = dialog.querySelector("form");
  const note = dialog.querySelector("textarea");
  const title = dialog.querySelector("h3");
  const label = dialog.querySelector("label");
  let pending = null;

  dialog.querySelector("[data-cancel]").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending || !note.value.trim()) return;
    const asked = pending;
    const { order, step } = asked;
    let answer;
    try {
      answer = await post(`${url}${encodeURIComponent(order.id)}/${step}`, { note: note.value });
    } catch {
      say.alert(word("err"), word("err_network"));
      return;
    }
    // The dialog may have been cancelled meanwhile and opened on another order: that one stays.
    if (pending === asked) {
      dialog.close();
      pending = null;
    }
    if (answer.ok) {
      say.clear();
      say.notice(fill(word(`done_${step}`), { number: order.number }));
    } else {
      say.alert(error(answer.data.code), answer.data.message);
    }
  });

  return function ask(order, step) {
    pending = { order, step };
    title.textContent = `${word(step)} · ${order.number}`;
    label.textContent = word(`note_${step}`);
    note.value = "";
    dialog.showModal();
  };
}

// A row's button for the order's next step, or an empty cell when none is left.
export function stepCell(order, word) {
  const step = nextStep(order);
  if (!step) return cell("");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.order = order.id;
  button.dataset.step = step;
  button.textContent = word(step);
  return cell(button);
}

// The rows of a work order table: ticket, rating, next step, due day (marked when escalated), button.
export function orderRows(orders, { word, lang, staff, columns = ["number", "counter", "clerk"] }) {
  return orders.map((order) => {
    const row = document.createElement("tr");
    row.dataset.order = order.id;
    if (order.overdue) row.className = "overdue";
    const person = staff[String(order.clerk)];
    const due = dayText(order.due, { lang });
    const cells = {
      number: cell(order.number),
      counter: cell(String(order.counter)),
      clerk: cell(person ? person.name : "—"),
    };
    row.append(
      ...columns.map((name) => cells[name]),
      cell(word(`rating_${order.level}`, order.label)),
      cell(order.state === "open" ? word("order_open") : word("order_called_back")),
      // An escalated order carries a word and a sign, not colour alone.
      cell(order.overdue ? `⚠ ${due} · ${word("overdue")}` : due, order.overdue ? "over" : ""),
      stepCell(order, word),
    );
    return row;
  });
}

// The console's card of its counter's work orders, for a supervisor: it follows the wallboard
// topic on the console's own realtime link, so the list is the wallboard's, for this counter.
export function followWorkOrders(rt, root, { word, error, say, counter }) {
  const table = root.querySelector("table");
  const lang = document.documentElement.lang || "zh-CN";
  const ask = orderDialog({ dialog: root.querySelector("dialog"), word, error, say, url: root.dataset.ordersUrl });
  let board = boardOf({});

  function render() {
    const mine = board.work_orders.filter((o) => o.counter === counter);
    const body = table.tBodies[0];
    if (mine.length === 0) {
      const row = document.createElement("tr");
      const none = cell(word("none"));
      none.colSpan = 6;
      row.append(none);
      body.replaceChildren(row);
    } else {
      body.replaceChildren(...orderRows(mine, { word, lang, staff: board.staff, columns: ["number", "clerk"] }));
    }
  }

  table.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-order]");
    const order = button && board.work_orders.find((o) => o.id === button.dataset.order);
    if (order) ask(order, button.dataset.step);
  });
  rt.subscribe(root.dataset.topic, {
    snapshot(data) {
      board = boardOf(data);
      render();
    },
    event(event, seq) {
      board = fold(board, event, seq);
      if (event.type === "rating.alarm" || event.type.startsWith("workorder.")) render();
    },
  });
}

// What the staff consoles share: their unsafe requests (CSRF token, a fresh command id, an answer
// that is always an object) and the alert and notice lines at the top of the page.
import { newCommandId } from "./ids.js";
import { fill } from "./page.js";

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function post(url, body) {
  const answer = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ command_id: newCommandId(), ...body }),
  });
  let data;
  try {
    data = await answer.json();
  } catch {
    data = {};
  }
  return { ok: answer.ok, status: answer.status, data };
}

// The alert stays until cleared; a notice goes by itself after `noticeMs`. `withDetail` is the
// page's word "{headline}: {detail}", which puts the colon of the page's language between them.
export function messenger(message, notice, withDetail, noticeMs) {
  let timer = null;
  return {
    alert(headline, text) {
      const shown = text && text !== headline ? fill(withDetail, { headline, detail: text }) : headline;
      message.textContent = `⚠ ${shown}`;
      message.hidden = false;
    },
    clear() {
      message.hidden = true;
      message.textContent = "";
    },
    notice(text) {
      notice.textContent = `✔ ${text}`;
      clearTimeout(timer);
      timer = setTimeout(() => {
        notice.textContent = "";
      }, noticeMs);
    },
  };
}

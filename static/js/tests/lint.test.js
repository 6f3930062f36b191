// The lint rules the pages rely on: ESLint with the project's own configuration refuses a page's
// live state replaced by a value worked out from a copy read before an await (the wallboard once
// lost an acknowledged alarm that way), and lets the same code pass once the await comes first.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const lint = new ESLint({ cwd: root });

async function problems(code) {
  const [result] = await lint.lintText(code, { filePath: `${root}static/js/example.js` });
  return result.messages.map((m) => m.ruleId);
}

test("a board replaced from a copy read before an await is refused", async () => {
  const stale = `
    let board = { lines: [] };
    export function fold(event) { board = { ...board, last: event }; }
    export async function refresh(answer) {
      board = { ...board, lines: (await answer.json()).services };
    }
  `;
  assert.deepEqual(await problems(stale), ["require-atomic-updates"]);
});

test("the same refresh passes when it reads the body first and the board after", async () => {
  const fresh = `
    let board = { lines: [] };
    export function fold(event) { board = { ...board, last: event }; }
    export async function refresh(answer) {
      const { services } = await answer.json();
      board = { ...board, lines: services };
    }
  `;
  assert.deepEqual(await problems(fresh), []);
});

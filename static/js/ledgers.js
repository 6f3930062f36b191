// The supervisor's ledgers (台帐) and comprehensive query. Each form asks the JSON API it names
// and draws the answer; its CSV button is left to the browser, which downloads the file the same
// API writes with the same filters.
import { askJson as ask, cell, fill, formParams, pageWords } from "./page.js";

const root = document.getElementById("ledgers");
const { word } = pageWords(root);
const message = document.getElementById("message");



function alert(error) {
  message.textContent = `⚠ ${fill(word("with_detail"), { headline: word("failed"), detail: error.message })}`;
  message.hidden = false;
}

// -- the ledger ----------------------------------------------------------------------------------

const ledgerForm = document.getElementById("ledger-form");
const ledgerTable = document.getElementById("ledger-table");
const ledgerNote = document.getElementById("ledger-note");
// Columns that count something late: marked with a sign and a word, not colour alone.
const lateColumns = new Set(["overdue", "completed_late"]);

function numberCell(key, value) {
  const td = cell(value === null ? "—" : String(value), "num");
  if (lateColumns.has(key) && value > 0) {
    td.textContent = `⚠ ${value}`;
    td.classList.add("over");
  }
  return td;
}

function drawLedger(data) {
  const head = document.createElement("tr");
  head.append(cell(data.heads.group, "", "th"), cell(data.heads.row, "", "th"));
  for (const column of data.columns) head.append(cell(column.label, "num", "th"));
  for (const th of head.children) th.scope = "col";
  ledgerTable.tHead.replaceChildren(head);

  const body = ledgerTable.tBodies[0];
  body.replaceChildren();
  const width = data.columns.length + 2;
  if (data.groups.length === 0) {
    const row = document.createElement("tr");
    const td = cell(word("none"));
    td.colSpan = width;
    row.append(td);
    body.append(row);
  }
  for (const group of data.groups) {
    group.rows.forEach((line, index) => {
      const row = document.createElement("tr");
      if (index === 0) {
        const th = cell(group.label, "group", "th");
        th.scope = "rowgroup";
        th.rowSpan = group.rows.length + 1;
        row.append(th);
      }
      const label = cell(line.label, "", "th");
      label.scope = "row";
      row.append(label);
      for (const column of data.columns) row.append(numberCell(column.key, line.values[column.key]));
      body.append(row);
    });
    const subtotal = document.createElement("tr");
    subtotal.className = "subtotal";
    const label = cell(word("subtotal"), "", "th");
    label.scope = "row";
    subtotal.append(label);
    for (const column of data.columns) subtotal.append(numberCell(column.key, group.subtotal[column.key]));
    body.append(subtotal);
  }
  const total = document.createElement("tr");
  const label = cell(word("total"), "", "th");
  label.scope = "row";
  label.colSpan = 2;
  total.append(label);
  for (const column of data.columns) total.append(numberCell(column.key, data.total[column.key]));
  ledgerTable.tFoot.replaceChildren(total);
  ledgerTable.hidden = false;
}

function describe() {
  ledgerNote.textContent = ledgerForm.elements.by.value === "clerk" ? word("note_clerk") : word("note_cases");
}

async function loadLedger() {
  message.hidden = true;
  try {
    drawLedger(await ask(`${ledgerForm.action}?${formParams(ledgerForm)}`));
  } catch (error) {
    alert(error);
  }
}

ledgerForm.addEventListener("submit", (event) => {
  if (event.submitter?.value === "csv") return; // the browser downloads the file
  event.preventDefault();
  loadLedger();
});
ledgerForm.elements.by.addEventListener("change", () => {
  describe();
  loadLedger();
});

// -- the comprehensive query ---------------------------------------------------------------------

const queryForm = document.getElementById("query-form");
const queryTable = document.getElementById("query-table");
const queryCount = document.getElementById("query-count");
const more = document.getElementById("query-more");
let asked = null;
let shown = 0;

// "2026-11-23T09:30:00+08:00" → "2026-11-23 09:30": the API gives times in the hall's zone.
const local = (when) => (when ? when.slice(0, 16).replace("T", " ") : "");

function caseRow(found) {
  const row = document.createElement("tr");
  const number = cell(found.number, "", "th");
  number.scope = "row";
  row.append(
    number,
    cell(`${found.item} ${found.item_name}`, "item"),
    cell(found.applicant.name),
    cell(found.applicant.id_number, "id"),
    cell(found.accepted_hall.name),
    cell(found.stage_label),
    cell(found.registered_by.name),
    cell(local(found.accepted_at), "when"),
    cell(local(found.due_at), "when"),
    cell(found.light_label, `light light-${found.light}`),
    cell(found.overdue ? `⚠ ${word("overdue")}` : "", found.overdue ? "over" : ""),
  );
  return row;
}

async function loadCases(append, preset = null) {
  message.hidden = true;
  if (!append) {
    asked = preset ?? formParams(queryForm);
    shown = 0;
  }
  const params = new URLSearchParams(asked);
  params.set("offset", String(shown));
  try {
    const data = await ask(`${queryForm.action}?${params}`);
    const body = queryTable.tBodies[0];
    if (!append) body.replaceChildren();
    for (const found of data.cases) body.append(caseRow(found));
    shown += data.cases.length;
    queryTable.hidden = data.total === 0;
    queryCount.textContent =
      data.total === 0 ? word("none") : fill(shown < data.total ? word("shown") : word("count"), { n: data.total, shown });
    more.hidden = shown >= data.total;
  } catch (error) {
    alert(error);
  }
}

queryForm.addEventListener("submit", (event) => {
  if (event.submitter?.value === "csv") return;
  event.preventDefault();
  loadCases(false);
});
more.addEventListener("click", () => loadCases(true));

describe();
loadLedger();

// A count on the wallboard links here with its query in the address (?light=red&stage=…&from=…):
// the fields show what they can of it and the query runs as asked.
const linked = new URLSearchParams(location.search);
if ([...linked.keys()].some((name) => queryForm.elements.namedItem(name))) {
  for (const [name, value] of linked) {
    const field = queryForm.elements.namedItem(name);
    if (field && "value" in field && !value.includes(",")) field.value = value;
  }
  loadCases(false, linked);
}

// 受理 at the counter console: the applicant (typed, or read from the ID card), the service item and
// its material checklist, scans of the papers, and the case itself; then its receipt.
//
// Everything on the form is mirrored live to the citizen screen beside the console (一机双屏) so the
// resident checks it before anything is registered. The mirror is a BroadcastChannel: both pages run
// in the clerk's own browser, so the details never leave it on their way to the second screen. The
// ID number is checked on the server (GB 11643 check digit) and reaches the citizen screen masked,
// and so does the phone (138****5678: the screen faces the hall, not only the resident); the name is
// shown in full because it is the resident's own and a wrong character is what they must catch.
// What the form holds belongs to one ticket: the citizen screen shows it only while that ticket is
// at the counter, and the next resident's ticket starts the form over.
//
// What the form shows and sends is worked out from its state in intakeview.js; this module holds
// the state, the elements and their events, and the requests.
import { newCommandId } from "./ids.js";
import {
  attachments,
  blockers as blockersOf,
  byteSize,
  channelName,
  dueText,
  itemFacts as factsOf,
  itemName as nameOf,
  localTime,
  mirror,
  missingMaterials,
  phoneValid,
  refusedField,
  scanAcceptable,
  SCAN_TYPES,
  searchItems,
} from "./intakeview.js";
import { fill, joinList, pageWords } from "./page.js";
import { post } from "./staffpage.js";

const form = document.getElementById("intake-form");

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

if (form) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const english = document.documentElement.lang === "en";
  const { word, error } = pageWords(form);
  // "{headline}: {detail}" with the colon of the page's language.
  const withDetail = (headline, detail) => fill(word("with_detail"), { headline, detail });
  const channel = new BroadcastChannel(channelName(form.dataset.hall, form.dataset.counter));
  const $ = (id) => document.getElementById(id);
  const fields = {
    name: $("intake-name"),
    idNumber: $("intake-id"),
    phone: $("intake-phone"),
    note: $("intake-note"),
  };
  const idState = $("intake-id-state");
  const cardState = $("intake-card-state");
  const ticketHint = $("intake-ticket");
  const itemSearch = $("intake-item-search");
  const itemSelect = $("intake-item");
  const itemFacts = $("intake-item-facts");
  const materialsBox = $("intake-materials-box");
  const materialsList = $("intake-materials");
  const missingBox = $("intake-missing");
  const missingList = $("intake-missing-list");
  const acceptButton = $("intake-accept");
  const blockers = $("intake-blockers");
  const errorLine = $("intake-error");
  const done = $("intake-done");
  const fieldErrors = {
    name: $("intake-name-error"),
    id: $("intake-id-error"),
    phone: $("intake-phone-error"),
    item: $("intake-item-error"),
    note: $("intake-note-error"),
  };

  let checked = { number: "", valid: false, masked: "" };
  let checkTimer = null;
  let phoneMasked = { phone: "", masked: "" }; // the server's last answer on the phone typed
  let phoneTimer = null;
  let catalog = []; // items this hall's level may accept, as the catalog lists them
  let item = null; // the chosen item with its materials
  const ticks = new Map(); // material name → its checkbox
  const scans = new Map(); // material name → uploaded files {sha256, size, content_type, filename, receipt}
  let uploading = 0;
  let sending = false;
  // A command id stays until the server has answered it: a retry after a lost answer is the same
  // command, and cannot register the case twice.
  let commandId = null;
  let accepted = null; // {number, due, provisional} once the case is registered
  let ticketId = null; // the ticket at the counter now
  let draftTicket = null; // the ticket what is on the form was typed for

  // The form's state as intakeview.js takes it.
  function state() {
    return {
      ticket: draftTicket,
      name: fields.name.value.trim(),
      idNumber: fields.idNumber.value.trim(),
      phone: fields.phone.value.trim(),
      note: fields.note.value.trim(),
      checked,
      phoneMasked,
      item,
      ticked: (name) => Boolean(ticks.get(name)?.checked),
      scans: (name) => scans.get(name) || [],
      accepted,
    };
  }

  // -- the applicant ------------------------------------------------------------------------

  async function check() {
    const number = fields.idNumber.value.trim();
    if (!number) {
      idState.textContent = "";
      idState.dataset.state = "";
      changed();
      return;
    }
    try {
      const answer = await fetch(form.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ id_number: number }),
      });
      const body = await answer.json();
      if (fields.idNumber.value.trim() !== number) return; // typed on meanwhile
      checked = { number, valid: Boolean(body.valid), masked: body.masked || "" };
      idState.dataset.state = body.valid ? "ok" : "bad";
      idState.textContent = body.valid ? `✓ ${word("id_ok")}` : `✗ ${word("id_bad")}`;
    } catch {
      idState.textContent = "";
    }
    changed();
  }

  // The citizen screen shows the phone as the server masks it, never as typed.
  async function maskPhone() {
    const phone = fields.phone.value.trim();
    if (!phone) {
      changed();
      return;
    }
    try {
      const answer = await fetch(form.dataset.phoneUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ phone }),
      });
      const body = await answer.json();
      if (fields.phone.value.trim() !== phone || !answer.ok) return; // typed on meanwhile
      phoneMasked = { phone, masked: body.masked || "" };
    } catch {
      return;
    }
    changed();
  }

  // -- the service item ---------------------------------------------------------------------

  function itemName(found) {
    return nameOf(found, english);
  }

  function renderItems() {
    const shown = searchItems(catalog, itemSearch.value);
    const options = shown.map((i) => {
      const option = element("option", "", `${i.code} ${itemName(i)}`);
      option.value = i.code;
      return option;
    });
    if (item && !shown.some((i) => i.code === item.code)) {
      // The chosen item stays on the list while the clerk searches for another.
      const option = element("option", "", `${item.code} ${itemName(item)}`);
      option.value = item.code;
      options.unshift(option);
    }
    if (options.length === 0) {
      const none = element("option", "", word("none"));
      none.disabled = true;
      options.push(none);
    }
    itemSelect.replaceChildren(...options);
    itemSelect.value = item ? item.code : "";
  }

  async function loadCatalog() {
    const answer = await fetch(form.dataset.catalogUrl, { credentials: "same-origin" });
    if (!answer.ok) return;
    const level = form.dataset.level;
    catalog = (await answer.json()).filter((i) => i.accept_levels.includes(level));
    renderItems();
  }

  async function chooseItem(code) {
    if (!code || item?.code === code) return;
    const answer = await fetch(`${form.dataset.catalogUrl}/${encodeURIComponent(code)}`, { credentials: "same-origin" });
    if (!answer.ok) return;
    const chosen = await answer.json();
    // The clerk may have picked another item while this one was read: the later choice wins.
    if (itemSelect.value !== code) return;
    // eslint-disable-next-line require-atomic-updates -- the choice is checked against the select after the read
    item = chosen;
    ticks.clear();
    scans.clear();
    showFieldError("item", "");
    itemFacts.textContent = factsOf(item, word);
    renderMaterials();
    changed();
  }

  // -- materials and their scans ------------------------------------------------------------

  function renderScans(name, list) {
    const shown = (scans.get(name) || []).map((scan) => {
      const row = element("li", "scan");
      row.append(
        element("span", "scan-name", scan.filename),
        element("span", "scan-meta", `${byteSize(scan.size)} · SHA-256 ${scan.sha256.slice(0, 12)}…`),
      );
      const remove = element("button", "scan-remove", "✕");
      remove.type = "button";
      remove.title = word("remove");
      remove.setAttribute("aria-label", `${word("remove")} ${scan.filename}`);
      remove.addEventListener("click", () => {
        scans.set(name, (scans.get(name) || []).filter((s) => s !== scan));
        renderScans(name, list);
        changed();
      });
      row.append(remove);
      return row;
    });
    list.replaceChildren(...shown);
  }

  async function upload(name, files, row) {
    const list = row.querySelector(".scan-list");
    const problem = row.querySelector(".field-error");
    problem.hidden = true;
    for (const file of files) {
      if (!scanAcceptable(file)) {
        problem.textContent = `⚠ ${withDetail(word("err_upload"), `${file.name} (PDF / JPEG / PNG, ≤ 10 MB)`)}`;
        problem.hidden = false;
        continue;
      }
      uploading += 1;
      row.classList.add("uploading");
      changed();
      try {
        const answer = await fetch(form.dataset.attachmentUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": file.type, "X-Filename": encodeURIComponent(file.name), "X-CSRF-Token": csrf },
          body: file,
        });
        const body = await answer.json().catch(() => ({}));
        if (!answer.ok) {
          const detail = `${file.name}${body.message ? ` (${body.message})` : ""}`;
          problem.textContent = `⚠ ${withDetail(word("err_upload"), detail)}`;
          problem.hidden = false;
          continue;
        }
        const kept = scans.get(name) || [];
        if (!kept.some((s) => s.sha256 === body.sha256)) {
          kept.push({
            sha256: body.sha256,
            size: body.size,
            content_type: body.content_type,
            filename: file.name,
            receipt: body.receipt,
          });
        }
        scans.set(name, kept);
        // A scan is of a paper the resident handed over: it is received.
        ticks.get(name).checked = true;
        renderScans(name, list);
      } catch {
        problem.textContent = `⚠ ${withDetail(word("err_upload"), `${file.name} (${word("err_network")})`)}`;
        problem.hidden = false;
      } finally {
        uploading -= 1;
        row.classList.remove("uploading");
        changed();
      }
    }
  }

  function renderMaterials() {
    const rows = (item?.materials || []).map((material, index) => {
      const row = element("li", `material ${material.required ? "is-required" : "is-optional"}`);
      row.dataset.name = material.name;
      const label = element("label", "material-tick");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `intake-material-${index}`;
      box.addEventListener("change", changed);
      ticks.set(material.name, box);
      label.append(box, element("span", "material-name", material.name));
      const need = element(
        "span",
        `need need-${material.required ? "required" : "optional"}`,
        material.required ? word("required") : word("optional"),
      );
      const copies = fill(word("copies"), { n: material.copies });
      const facts = element("span", "material-facts", `${material.form_label} · ${copies}`);
      const add = element("label", "scan-add");
      const picker = document.createElement("input");
      picker.type = "file";
      picker.accept = SCAN_TYPES.join(",");
      picker.multiple = true;
      picker.className = "visually-hidden";
      picker.setAttribute("aria-label", withDetail(word("add_scan"), material.name));
      picker.addEventListener("change", () => {
        const files = [...picker.files];
        picker.value = "";
        upload(material.name, files, row);
      });
      add.append(element("span", "", word("add_scan")), picker);
      const problem = element("p", "field-error");
      problem.hidden = true;
      row.append(label, need, facts, add, element("ul", "scan-list"), problem);
      for (const kind of ["dragenter", "dragover"]) {
        row.addEventListener(kind, (event) => {
          event.preventDefault();
          row.classList.add("dropping");
        });
      }
      row.addEventListener("dragleave", () => row.classList.remove("dropping"));
      row.addEventListener("drop", (event) => {
        event.preventDefault();
        row.classList.remove("dropping");
        upload(material.name, [...(event.dataTransfer?.files || [])], row);
      });
      return row;
    });
    materialsList.replaceChildren(...rows);
    materialsBox.hidden = !item;
  }

  function missing() {
    return missingMaterials(item, (name) => ticks.get(name)?.checked);
  }

  // -- what stands between the form and 受理 ------------------------------------------------

  function update() {
    const absent = missing();
    missingList.replaceChildren(...absent.map((name) => element("li", "", name)));
    missingBox.hidden = absent.length === 0;
    for (const row of materialsList.children) {
      row.classList.toggle("is-missing", absent.includes(row.dataset.name));
    }
    const list = blockersOf(state(), word);
    const shown = joinList(list, word("list_join"));
    blockers.textContent = accepted || list.length === 0 ? "" : fill(word("still_needed"), { list: shown });
    acceptButton.disabled = Boolean(accepted) || sending || uploading > 0 || list.length > 0;
  }

  // Whether anything is on the form yet.
  function filled() {
    const now = state();
    return Boolean(now.name || now.idNumber || now.phone || now.note || item || accepted);
  }

  function changed() {
    // An empty form is the ticket's at the counter now: what is typed next is that resident's.
    if (!filled()) draftTicket = ticketId;
    update();
    publish();
  }

  // -- the mirror on the citizen screen -----------------------------------------------------

  function publish() {
    channel.postMessage(mirror(state()));
  }

  // -- errors -------------------------------------------------------------------------------

  function showFieldError(name, text) {
    const slot = fieldErrors[name];
    slot.textContent = text ? `⚠ ${text}` : "";
    slot.hidden = !text;
    const input = { name: fields.name, id: fields.idNumber, phone: fields.phone, item: itemSelect, note: fields.note }[name];
    input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  function clearErrors() {
    for (const name of Object.keys(fieldErrors)) showFieldError(name, "");
    errorLine.hidden = true;
    errorLine.textContent = "";
  }

  function showError(data) {
    const text = withDetail(error(data.error), data.message || "");
    const field = refusedField(data);
    if (field) {
      showFieldError(field, text);
      ({ name: fields.name, id: fields.idNumber, phone: fields.phone, item: itemSelect, note: fields.note })[field].focus();
      return;
    }
    if (data.error === "missing_materials" && Array.isArray(data.missing)) {
      for (const name of data.missing) ticks.get(name)?.closest("li")?.classList.add("is-missing");
    }
    errorLine.textContent = `⚠ ${text}`;
    errorLine.hidden = false;
  }

  // -- 受理 ----------------------------------------------------------------------------------

  function lock(locked) {
    for (const control of form.querySelectorAll("fieldset input, fieldset select, #intake-note, #intake-read")) {
      control.disabled = locked;
    }
  }

  function showAccepted(found) {
    const receipt = form.dataset.receiptUrl.replace("{number}", encodeURIComponent(found.number));
    accepted = {
      number: found.number,
      due: localTime(found.due_at, form.dataset.timezone),
      provisional: Boolean(found.provisional),
    };
    $("intake-number").textContent = found.number;
    const due = $("intake-due");
    due.textContent = dueText(accepted, word);
    const link = $("intake-receipt");
    link.href = receipt;
    link.target = "hall-receipt";
    done.hidden = false;
    lock(true);
    changed();
    // Opened at once, in a window of its own that the next receipt reuses; the link stays for a
    // browser that blocks it.
    window.open(receipt, "hall-receipt");
  }

  async function accept() {
    if (sending || acceptButton.disabled) return;
    sending = true;
    update();
    clearErrors();
    commandId = commandId || newCommandId();
    const body = {
      command_id: commandId,
      item: item.code,
      applicant: { name: fields.name.value.trim(), id_number: fields.idNumber.value.trim(), phone: fields.phone.value.trim() },
      materials: item.materials.filter((m) => ticks.get(m.name)?.checked).map((m) => m.name),
      counter: Number(form.dataset.counter),
      remark: fields.note.value.trim(),
      attachments: attachments(scans),
    };
    try {
      const { ok, status, data } = await post(form.dataset.caseUrl, body);
      if (status >= 500 || data.error === "timeout") {
        // Whether the case was registered is unknown: the next press asks again with the same id.
        showError({ error: "network", message: data.message || word("err_network") });
        return;
      }
      // eslint-disable-next-line require-atomic-updates -- the id of this one request, settled by its answer
      commandId = null;
      if (!ok) {
        showError(data);
        return;
      }
      showAccepted(data.case);
    } catch {
      showError({ error: "network", message: word("err_network") });
    } finally {
      // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
      sending = false;
      update();
    }
  }

  // -- starting over ------------------------------------------------------------------------

  function reset() {
    form.reset();
    lock(false);
    checked = { number: "", valid: false, masked: "" };
    phoneMasked = { phone: "", masked: "" };
    idState.textContent = "";
    idState.dataset.state = "";
    cardState.textContent = "";
    item = null;
    ticks.clear();
    scans.clear();
    commandId = null;
    accepted = null;
    itemFacts.textContent = "";
    done.hidden = true;
    clearErrors();
    renderItems();
    renderMaterials();
    changed();
  }

  // The ticket at the counter may carry who took it (an ID card swiped at the kiosk). The counter
  // view shows it masked; the form asks the holder endpoint for it in full.
  function onTicket(ticket) {
    const id = ticket?.id ?? null;
    if (id === ticketId) return;
    ticketId = id;
    // The next resident: what is on the form (and the last receipt) was the one before's. A ticket
    // that ends leaves the form to the clerk (to print its receipt), and the citizen screen stops
    // showing it, as it belongs to a ticket no longer at the counter.
    if (ticket && id !== draftTicket && filled()) reset();
    else changed();
    const person = ticket?.applicant;
    ticketHint.hidden = !person;
    if (!person) return;
    ticketHint.textContent = fill(word("ticket_hint"), { name: person.name || "", id: person.id_number || "" });
    if (fields.name.value.trim() || fields.idNumber.value.trim()) return; // never overwrite what was typed
    // The clerk serving the ticket gets its holder in full, as from a card read at the counter.
    fetch(form.dataset.holderUrl, { credentials: "same-origin" })
      .then((answer) => (answer.ok ? answer.json() : null))
      .then(async (holder) => {
        if (!holder || holder.ticket !== ticketId || fields.name.value.trim() || fields.idNumber.value.trim()) return;
        fields.name.value = holder.name || "";
        fields.idNumber.value = holder.id_number || "";
        await check();
        changed();
      })
      .catch(() => {});
  }

  // -- wiring -------------------------------------------------------------------------------

  for (const input of Object.values(fields)) {
    input.addEventListener("input", () => {
      if (input === fields.idNumber) {
        clearTimeout(checkTimer);
        checkTimer = setTimeout(check, 250);
        showFieldError("id", "");
      }
      if (input === fields.phone) {
        clearTimeout(phoneTimer);
        phoneTimer = setTimeout(maskPhone, 250);
        const value = input.value.trim();
        showFieldError("phone", "");
        input.setAttribute("aria-invalid", value && !phoneValid(value) ? "true" : "false");
      }
      if (input === fields.name) showFieldError("name", "");
      changed();
    });
  }

  itemSearch.addEventListener("input", () => {
    renderItems();
    // One match is the item: the clerk typed its code.
    const codes = [...itemSelect.options].filter((o) => !o.disabled).map((o) => o.value);
    if (codes.length === 1 && codes[0] !== item?.code) {
      itemSelect.value = codes[0];
      chooseItem(codes[0]).catch(() => {});
    }
  });
  itemSearch.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      itemSelect.focus();
    }
  });
  itemSelect.addEventListener("change", () => chooseItem(itemSelect.value).catch(() => {}));

  $("intake-read").addEventListener("click", async () => {
    cardState.textContent = "";
    const answer = await fetch(`${form.dataset.cardUrl}?take=1`, { credentials: "same-origin" });
    if (!answer.ok) {
      cardState.textContent = word("no_card");
      return;
    }
    const card = await answer.json();
    fields.name.value = card.name || "";
    fields.idNumber.value = card.id_number || "";
    cardState.textContent = word("card_read");
    await check();
  });

  $("intake-clear").addEventListener("click", reset);
  $("intake-new").addEventListener("click", reset);
  acceptButton.addEventListener("click", accept);
  form.addEventListener("submit", (event) => event.preventDefault());
  document.addEventListener("counter:current", (event) => onTicket(event.detail));

  // A citizen screen opened later asks for what is on the form now.
  channel.addEventListener("message", (event) => {
    if (event.data === "hello") publish();
  });
  loadCatalog().catch(() => {});
  renderMaterials();
  changed();
}

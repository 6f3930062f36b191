// What the intake form (受理) works out from what was typed and chosen: pure functions, no
// document, so node:test runs them (static/js/tests/intakeview.test.js). intake.js does the rest:
// the fields and their events, the uploads, the request that registers the case, the mirror to
// the citizen screen.
//
//   import { blockers, mirror, phoneValid } from "/static/js/intakeview.js";
//   phoneValid("13800138000");                        // true; a landline with its area code too
//   blockers(form, word);                             // ["a valid ID number", "a service item"]
//   channel.postMessage(mirror(form));                // what the citizen screen shows
//
// `form` is the form's state as plain data: the ticket it belongs to, name, idNumber, phone and note
// (trimmed), checked (the server's last answer on an ID number), phoneMasked (its last answer on a
// phone), item, ticked(name) and scans(name), accepted. The server
// checks everything again; these only say early what it would refuse.
import { fill } from "./page.js";

// What the attachments endpoint takes (hall/case_api.py).
export const SCAN_TYPES = ["application/pdf", "image/jpeg", "image/png"];
export const SCAN_MAX = 10 * 1024 * 1024;

// Both pages of a counter, the console and its citizen screen, meet on this channel.
export function channelName(hall, counter) {
  return `hall-intake-${hall}-${counter}`;
}

// As the service guide searches (hall/catalog_pages.py searchable): no spaces, no case.
export function plain(text) {
  return text.replace(/\s+/g, "").toLowerCase();
}

// The items a search shows: by code, Chinese or English name.
export function searchItems(catalog, search) {
  const needle = plain(search);
  return catalog.filter((i) => !needle || plain(`${i.code} ${i.name} ${i.name_en}`).includes(needle));
}

export function itemName(item, english) {
  return english && item.name_en ? item.name_en : item.name;
}

// "民政局 · 行政确认 · 20 个工作日": who decides, the kind of item, its time limit.
export function itemFacts(item, word) {
  const days = item.time_limit_days;
  const time = days === 0 ? word("on_the_spot") : fill(days === 1 ? word("days_one") : word("days"), { n: days });
  return `${item.department} · ${item.kind_label} · ${time}`;
}

export function byteSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// A file the attachments endpoint would take, by its type and size.
export function scanAcceptable(file) {
  return SCAN_TYPES.includes(file.type) && file.size <= SCAN_MAX;
}

// A mobile number, or a landline with its area code (with or without the dash).
export function phoneValid(value) {
  return /^1\d{10}$/.test(value) || /^0\d{2,3}-?\d{7,8}$/.test(value) || /^1\d{2}-\d{4}-\d{4}$/.test(value);
}

// The ID number is valid only as the server last checked it, and only if it is still the one typed.
export function idValid(form) {
  const number = form.idNumber;
  return Boolean(number) && form.checked.number === number && form.checked.valid;
}

// The required materials not ticked yet, by name.
export function missingMaterials(item, ticked) {
  return (item?.materials || []).filter((m) => m.required && !ticked(m.name)).map((m) => m.name);
}

// What stands between the form and 受理, in the page's words ("the name", "a service item"…).
export function blockers(form, word) {
  const list = [];
  if (!form.name) list.push(word("need_name"));
  if (!idValid(form)) list.push(word("need_id"));
  if (form.phone && !phoneValid(form.phone)) list.push(word("need_phone"));
  if (!form.item) list.push(word("need_item"));
  else if (missingMaterials(form.item, form.ticked).length) list.push(word("need_materials"));
  return list;
}

// What the citizen screen shows (citizen.js renderIntake), for the ticket the form belongs to: the
// ID number and phone masked by the server (hall/kernel/masking.py), each only once the server has
// answered for what is typed now; the name in full, for the resident to check its characters.
export function mirror(form) {
  const number = form.idNumber;
  const phone = form.phone;
  const phoneShown = form.phoneMasked || { phone: "", masked: "" };
  return {
    ticket: form.ticket ?? null,
    name: form.name,
    id_masked: number && form.checked.number === number ? form.checked.masked : "",
    id_valid: number ? form.checked.number === number && form.checked.valid : null,
    id_typed: number.length,
    phone: phone && phoneShown.phone === phone ? phoneShown.masked : "",
    phone_typed: phone.length,
    phone_valid: phone ? phoneValid(phone) : null,
    note: form.note,
    item: form.item ? { code: form.item.code, name: form.item.name, name_en: form.item.name_en } : null,
    materials: (form.item?.materials || []).map((m) => ({
      name: m.name,
      required: m.required,
      ticked: Boolean(form.ticked(m.name)),
      scans: form.scans(m.name).length,
    })),
    accepted: form.accepted,
  };
}

// The API names the field it refuses (hall/case_api.py, cases/store.py); the form's own name of it.
const FIELDS = {
  name: "name",
  applicant: "name",
  id_number: "id",
  "applicant.id_number": "id",
  phone: "phone",
  item: "item",
  remark: "note",
};

export function refusedField(data) {
  return data.error === "not_accepted_here" ? "item" : FIELDS[data.field];
}

// The attachments of the case: each scan with the material it is of.
export function attachments(scans) {
  return [...scans.entries()].flatMap(([material, list]) =>
    list.map((s) => ({ sha256: s.sha256, filename: s.filename, content_type: s.content_type, receipt: s.receipt, material })),
  );
}

// "2026-12-21 17:30" in the hall's time zone: the receipt's format, whatever the browser's locale.
export function localTime(iso, timeZone) {
  if (!iso) return "";
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone || undefined,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

// The due date as the console shows it once the case is registered.
export function dueText(accepted, word) {
  if (!accepted.due) return word("on_the_spot");
  return `${accepted.due}${accepted.provisional ? ` (${word("provisional")})` : ""}`;
}

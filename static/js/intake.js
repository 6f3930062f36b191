// The applicant's details as the clerk types them at the counter console, mirrored live to the
// citizen screen beside it (一机双屏) so the resident checks them before anything is registered.
//
// The mirror is a BroadcastChannel: both pages run in the clerk's own browser, so the details never
// leave it on their way to the second screen. The ID number is checked on the server (GB 11643
// check digit) and reaches the citizen screen masked; the name and phone are shown in full because
// they are the resident's own, on the screen facing them, and a mistyped phone loses notices.
const form = document.getElementById("intake-form");

export function channelName(hall, counter) {
  return `hall-intake-${hall}-${counter}`;
}

if (form) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const channel = new BroadcastChannel(channelName(form.dataset.hall, form.dataset.counter));
  const fields = {
    name: form.querySelector("#intake-name"),
    idNumber: form.querySelector("#intake-id"),
    phone: form.querySelector("#intake-phone"),
    note: form.querySelector("#intake-note"),
  };
  const idState = form.querySelector("#intake-id-state");
  const cardState = form.querySelector("#intake-card-state");
  let checked = { number: "", valid: false, masked: "" };
  let checkTimer = null;

  function phoneValid(value) {
    return /^1\d{10}$/.test(value) || /^0\d{2,3}-?\d{7,8}$/.test(value);
  }

  function publish() {
    const number = fields.idNumber.value.trim();
    channel.postMessage({
      name: fields.name.value.trim(),
      id_masked: number && checked.number === number ? checked.masked : "",
      id_valid: number ? checked.number === number && checked.valid : null,
      id_typed: number.length,
      phone: fields.phone.value.trim(),
      phone_valid: fields.phone.value.trim() ? phoneValid(fields.phone.value.trim()) : null,
      note: fields.note.value.trim(),
    });
  }

  async function check() {
    const number = fields.idNumber.value.trim();
    if (!number) {
      idState.textContent = "";
      idState.dataset.state = "";
      publish();
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
      idState.textContent = body.valid ? `✓ ${form.dataset.idOk}` : `✗ ${form.dataset.idBad}`;
    } catch {
      idState.textContent = "";
    }
    publish();
  }

  for (const input of Object.values(fields)) {
    input.addEventListener("input", () => {
      if (input === fields.idNumber) {
        clearTimeout(checkTimer);
        checkTimer = setTimeout(check, 250);
      }
      if (input === fields.phone) {
        const value = input.value.trim();
        input.setAttribute("aria-invalid", value && !phoneValid(value) ? "true" : "false");
      }
      publish();
    });
  }

  form.querySelector("#intake-read").addEventListener("click", async () => {
    cardState.textContent = "";
    const answer = await fetch(`${form.dataset.cardUrl}?take=1`, { credentials: "same-origin" });
    if (!answer.ok) {
      cardState.textContent = form.dataset.noCard;
      return;
    }
    const card = await answer.json();
    fields.name.value = card.name || "";
    fields.idNumber.value = card.id_number || "";
    cardState.textContent = form.dataset.cardRead;
    await check();
  });

  form.querySelector("#intake-clear").addEventListener("click", () => {
    form.reset();
    checked = { number: "", valid: false, masked: "" };
    idState.textContent = "";
    cardState.textContent = "";
    publish();
  });

  form.addEventListener("submit", (event) => event.preventDefault());
  // A citizen screen opened later asks for what is on the form now.
  channel.addEventListener("message", (event) => {
    if (event.data === "hello") publish();
  });
  publish();
}

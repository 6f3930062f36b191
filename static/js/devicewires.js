// The device console's wired devices: the serial ports of the server, each line of the hall's
// wired devices (settings, state, presence, counters, refusals, last frames), and the wire form
// of the device shown in the detail panel. devices.js makes it and tells it when to read again.
//
//   const wires = wiredPanel({ root, word, error, say, changed });
//   wires.refresh();            // GET …/serial, at every device event and on the Refresh button
//   wires.showDevice(device);   // the wire form for the selected device (hidden for other kinds)
//
// Presence comes live with the page's device events; the counters and frames are no events, so
// they are read again at each device event (debounced by devices.js) and when the technician
// presses Refresh, never on a timer.
import { badCounts, lineSettings, reasonCode, refusals, wireBody, wireValues } from "./devicetext.js";
import { cell, fill, joinList } from "./page.js";
import { post } from "./staffpage.js";

export function wiredPanel({ root, word, error, say, changed }) {
  const portList = document.getElementById("ports");
  const noPorts = document.getElementById("no-ports");
  const lines = document.getElementById("lines");
  const noLines = document.getElementById("no-lines");
  const portChoices = document.getElementById("port-list");
  const block = document.getElementById("wire-block");
  const form = document.getElementById("wire-form");
  const now = document.getElementById("wire-now");
  const problem = document.getElementById("wire-error");
  const wirable = JSON.parse(root.dataset.wirable);
  let device = null;
  let busy = false;

  const reason = (code) => word(`reason_${code}`, code);
  const counted = (pairs) =>
    joinList(
      pairs.map(([code, n]) => fill(word("with_detail"), { headline: reason(code), detail: n })),
      word("list_join"),
    );

  function presenceSign(online) {
    const span = document.createElement("span");
    // The word carries the state; the colour only repeats it.
    if (online === null || online === undefined) {
      span.className = "presence is-unknown";
      span.textContent = word("not_heard");
    } else {
      span.className = `presence ${online ? "is-online" : "is-offline"}`;
      span.textContent = online ? word("online") : word("offline");
    }
    return span;
  }

  function renderPorts(ports, inUse) {
    portList.replaceChildren();
    portChoices.replaceChildren();
    noPorts.hidden = ports.length > 0;
    for (const port of ports) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = port.port;
      item.append(code);
      const said = [port.description, inUse.get(port.port)].filter(Boolean);
      if (said.length) item.append(` · ${said.join(" · ")}`);
      portList.append(item);
      portChoices.append(new Option(port.description || port.port, port.port));
    }
  }

  function frameTable(recent) {
    const table = document.createElement("table");
    table.className = "device-table compact frames";
    const body = table.createTBody();
    if (recent.length === 0) {
      const td = cell(word("frames_none"), "muted");
      td.colSpan = 3;
      body.insertRow().append(td);
      return table;
    }
    // Newest first: the frame a technician waits for is the one that just came.
    for (const frame of [...recent].reverse()) {
      const row = body.insertRow();
      row.className = frame.ok ? "frame-ok" : "frame-bad";
      const mark = document.createElement("span");
      mark.className = frame.ok ? "mark-ok" : "mark-bad";
      mark.textContent = frame.ok ? word("frame_ok") : word("frame_bad");
      const raw = document.createElement("code");
      raw.textContent = frame.raw;
      const meaning = frame.ok
        ? frame.summary + (frame.times > 1 ? ` ${fill(word("frame_times"), { n: frame.times })}` : "")
        : fill(word("with_detail"), { headline: reason(reasonCode(frame.reason)), detail: frame.reason });
      row.append(cell(mark), cell(meaning, "meaning"), cell(raw, "raw"));
    }
    return table;
  }

  function lineCard(line) {
    const card = document.createElement("article");
    card.className = `line line-${line.state}`;
    card.dataset.port = line.port;
    const head = document.createElement("h3");
    const port = document.createElement("code");
    port.textContent = line.port;
    const state = document.createElement("span");
    state.className = `line-state state-${line.state}`;
    state.textContent = word(`line_${line.state}`, line.state);
    head.append(port, " ", state);
    const facts = document.createElement("p");
    facts.className = "line-facts";
    facts.textContent = [
      word(`protocol_${line.protocol}`, line.protocol),
      lineSettings(line.settings),
      fill(word("opens"), { n: line.opens }),
    ].join(" · ");
    card.append(head, facts);
    if (line.last_error) {
      const err = document.createElement("p");
      err.className = "line-error";
      err.textContent = fill(word("with_detail"), { headline: word("last_error"), detail: line.last_error });
      card.append(err);
    }

    const members = document.createElement("table");
    members.className = "device-table compact line-devices";
    const body = members.createTBody();
    for (const member of line.devices) {
      const row = body.insertRow();
      row.dataset.device = member.id;
      const id = document.createElement("code");
      id.textContent = member.id;
      const where = member.address === null ? "—" : fill(word("address"), { address: member.address });
      row.append(cell(id), cell(where), cell(presenceSign(member.online)));
    }
    card.append(members);

    const numbers = document.createElement("p");
    numbers.className = "line-counts";
    const good = document.createElement("strong");
    good.className = "count-good";
    good.textContent = fill(word("frames_good"), { n: line.good });
    const bad = document.createElement("strong");
    bad.className = line.bad ? "count-bad has-bad" : "count-bad";
    bad.textContent = fill(word("frames_bad"), { n: line.bad });
    numbers.append(good, " · ", bad);
    const broken = badCounts(line.counters);
    if (broken.length) numbers.append(` (${counted(broken)})`);
    const refused = refusals(line.refused);
    const told = document.createElement("p");
    told.className = refused.length ? "line-refused has-refused" : "line-refused";
    told.textContent = refused.length
      ? fill(word("with_detail"), { headline: word("refusals"), detail: counted(refused) })
      : word("refusals_none");
    card.append(numbers, told, frameTable(line.recent));
    return card;
  }

  const pcscList = document.getElementById("pcsc-readers");
  const pcscNone = document.getElementById("pcsc-none");
  const pcscTrouble = document.getElementById("pcsc-trouble");

  function renderPcsc(pcsc) {
    pcscList.replaceChildren();
    pcscNone.hidden = Boolean(pcsc);
    pcscTrouble.hidden = !pcsc?.trouble;
    pcscTrouble.textContent = pcsc?.trouble || "";
    if (!pcsc) return;
    for (const reader of pcsc.readers) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = reader.name;
      const bound = reader.device ? fill(word("pcsc_bound"), { device: reader.device }) : word("pcsc_unbound");
      item.append(code, ` · ${bound}`);
      pcscList.append(item);
    }
    const read = document.createElement("li");
    read.className = "muted";
    read.textContent = fill(word("pcsc_read"), { count: pcsc.cards_read });
    pcscList.append(read);
  }

  function render(data) {
    const inUse = new Map();
    for (const line of data.lines) {
      inUse.set(line.port, fill(word("port_in_use"), { devices: line.devices.map((d) => d.id).join(", ") }));
    }
    renderPorts(data.ports, inUse);
    renderPcsc(data.pcsc);
    noLines.hidden = data.lines.length > 0;
    lines.replaceChildren(...data.lines.map(lineCard));
  }

  let reading = null;
  async function refresh() {
    if (reading) return reading; // one read at a time: events come in bursts
    reading = (async () => {
      try {
        const answer = await fetch(root.dataset.serialUrl, { credentials: "same-origin" });
        if (answer.ok) render(await answer.json());
      } catch {
        // The link state shows a lost connection; the next event or Refresh reads again.
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  // -- the wire form ------------------------------------------------------------------------

  function clearProblem() {
    problem.hidden = true;
    problem.textContent = "";
    for (const field of form.elements) field.removeAttribute("aria-invalid");
  }

  function showProblem(data) {
    problem.hidden = false;
    problem.textContent = fill(word("with_detail"), { headline: error(data.error), detail: data.message || "" });
    const field = data.field && form.elements[data.field];
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  function showDevice(shown) {
    const kind = shown && shown.status === "active" ? wirable[shown.kind] : null;
    block.hidden = !kind;
    if (!kind) {
      device = null;
      return;
    }
    // Filled again only when another device is shown or its wiring changed, so a refresh does
    // not undo what the technician is typing.
    const key = `${shown.id}:${JSON.stringify(shown.wire)}`;
    const before = device;
    device = shown;
    if (form.dataset.shown === key) return;
    form.dataset.shown = key;
    if (before?.id !== shown.id) clearProblem();
    const values = wireValues(shown.wire, kind);
    for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
    // A display declares its text encoding; the select is off (and not sent) for other devices.
    const display = kind.protocol === "display";
    document.getElementById("wire-encoding").hidden = !display;
    form.elements.encoding.disabled = !display;
    const sam = kind.protocol === "sam";
    form.elements.address.disabled = sam;
    form.elements.address.title = sam ? word("wire_no_address") : "";
    const protocol = fill(word("wire_protocol"), { protocol: word(`protocol_${kind.protocol}`, kind.protocol) });
    now.textContent = shown.wire
      ? `${protocol} · ${shown.wire.port} · ${lineSettings(shown.wire)}`
      : `${protocol} · ${word("wire_network")}`;
    document.getElementById("unwire").disabled = !shown.wire;
  }

  async function send(body, done) {
    if (!device || busy) return;
    busy = true;
    const id = device.id;
    try {
      const { ok, data } = await post(`${root.dataset.deviceUrl}${encodeURIComponent(id)}/wire`, body);
      if (!ok) {
        showProblem(data);
        return;
      }
      clearProblem();
      say.notice(done);
      await changed();
      await refresh();
    } catch {
      showProblem({ error: "network", message: word("err_network") });
    } finally {
      // eslint-disable-next-line require-atomic-updates -- this handler's own flag, set before its await
      busy = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const body = wireBody(values);
    send(body, fill(word("wired"), { device: device?.id, port: body.wire.port }));
  });
  document.getElementById("unwire").addEventListener("click", () => {
    send({ wire: null }, fill(word("unwired"), { device: device?.id }));
  });
  document.getElementById("wired-refresh").addEventListener("click", () => refresh());

  return { refresh, showDevice };
}

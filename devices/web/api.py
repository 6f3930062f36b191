"""The technician's device API: a hall's devices with their presence, telemetry and traffic, their
registration, binding, credentials and retirement, and commands to them with their outcome. Also
the clerk's read of an ID card swiped at their counter.

A device's secret is made here, shown in the answer once and stored only as Mosquitto's hash: the
server could not show it again if asked, so a lost secret is replaced (rekey), never recovered.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from devices.protocol import BadMessage, valid_device_id, valid_message_id
from devices.registry import Device, Kind, Registry, Status
from devices.service import Devices
from hall.kernel.errors import CommandTimeout
from hall.kernel.events import Command
from hall.kernel.i18n import N_, localized, translations
from hall.kernel.i18n import gettext as _
from hall.kernel.roles import Access, Role
from hall.runtime import Runtime, runtime_of
from hall.storage.database import reading
from hall.storage.device_tables import device_commands, devices
from hall.storage.writer import Outcome
from hall.web.access import guarded, member_of
from hall.web.api import command_body, submit
from hall.web.problems import Problem, problem, status_of
from hall.web.responses import JSONResponse
from hall.web.screen_keys import screen_key

# What a technician may ask of a device from the console, and which kinds understand it.
COMMANDS: Mapping[str, str] = {
    "ping": N_("Ping"),
    "show": N_("Show test pattern"),
    "brightness": N_("Brightness"),
    "clear": N_("Clear the display"),
    "reboot": N_("Reboot"),
    "paper_refill": N_("Paper refilled"),
}
# What a wired display's line carries (devices.wired.display_command); other wired devices (keypads,
# raters, a SAM reader) are polled by their line and take no command from the console.
WIRED_COMMANDS = frozenset({"ping", "show", "brightness", "clear"})
SHOW_DEFAULTS: Mapping[str, Any] = {"pattern": "grid", "seconds": 10}
RECENT_COMMANDS = 50
_MAX_ARGS = 8

KIND_NAMES: Mapping[Kind, str] = {
    Kind.KIOSK: N_("Ticket kiosk"),
    Kind.LED: N_("LED strip"),
    Kind.WINDOW: N_("Counter display"),
    Kind.QUEUE_DISPLAY: N_("Queue display"),
    Kind.RATING_PAD: N_("Rating pad"),
    Kind.ID_READER: N_("ID card reader"),
    Kind.CITIZEN_SCREEN: N_("Citizen screen"),
    Kind.KEYPAD: N_("Caller keypad"),
}
STATUS_NAMES: Mapping[Status, str] = {
    Status.PENDING: N_("Awaiting registration"),
    Status.ACTIVE: N_("Registered"),
    Status.RETIRED: N_("Retired"),
}


def command_applies(name: str, kind: Kind | None, wired: bool = False) -> bool:
    """Whether a device of ``kind`` takes ``name``: on the bus (docs/protocols/mqtt.md), or on a
    serial line (docs/protocols/serial.md), where only strips and window displays take commands."""
    if wired:
        return name in WIRED_COMMANDS and kind in (Kind.LED, Kind.WINDOW)
    if name in ("brightness", "clear"):
        return False  # the MQTT display protocol has neither: its content is what the feed sends
    if name == "show":
        return kind is not None and kind.shows
    if name == "paper_refill":
        return kind is Kind.KIOSK
    return name in COMMANDS


def kind_choices() -> list[dict[str, Any]]:
    """Every kind with its Chinese and English names (both, always: technicians read either)."""
    chinese = translations("zh_CN")
    return [
        {
            "value": kind.value,
            "zh": chinese.gettext(KIND_NAMES[kind]),
            "en": KIND_NAMES[kind],
            "at_counter": kind.at_counter,
            "shows": kind.shows,
        }
        for kind in Kind
    ]


# -- reading -----------------------------------------------------------------------------------


def _devices_of(request: Request) -> Devices | None:
    runtime: Runtime = runtime_of(request)
    return runtime.devices


async def _registry(request: Request) -> Registry | None:
    found = await runtime_of(request).writer.read_state(request.path_params["hall"], "devices")
    return None if found is None else found[1]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _listed(device: Device, measured: Any, side: Devices | None) -> dict[str, Any]:
    """A device as the console lists it: the registry's view, then the measurements (fresh from
    the gateway's memory when the bus runs here, else as last flushed to its row)."""
    item = device.as_json()
    item["first_seen"] = _iso(device.first_seen)
    item["last_seen"] = _iso(measured.last_seen) if measured is not None else None
    item["telemetry"] = dict(measured.telemetry or {}) if measured is not None else {}
    rejected: dict[str, int] = dict(measured.rejected or {}) if measured is not None else {}
    item["in_flight"] = []
    refused: dict[str, int] = {}
    if side is not None:
        live = side.gateway.known.telemetry(device.id)
        if live:
            item["last_seen"] = live.pop("last_seen", None) or item["last_seen"]
            item["telemetry"] = {**item["telemetry"], **live}
        counted = side.gateway.stats.rejected.get(device.id)
        if counted:
            rejected = dict(counted)
        item["in_flight"] = side.gateway.commands.in_flight(device.id) + side.serial.in_flight(device.id)
        # Events the hall refused (a closed counter, nothing waiting) since this server started.
        refused = dict(side.gateway.stats.refused.get(device.id, {}))
    item["rejected"] = rejected
    item["rejected_total"] = sum(rejected.values())
    item["refused"] = refused
    item["refused_total"] = sum(refused.values())
    return item


_ORDER = {Status.PENDING: 0, Status.ACTIVE: 1, Status.RETIRED: 2}


@guarded(Access.staff(Role.TECHNICIAN))
async def list_devices(request: Request) -> Response:
    """
    summary: Every device of the hall - registry, presence, telemetry, rejected messages, commands in flight.
    description: >
      Pending devices (seen on the bus, not yet registered) come first. ``bus`` is null when the
      server runs without a device bus.
    responses:
      200: {description: "the hall's devices, its counters and the bus state"}
      404: {description: no such hall}
    """
    registry = await _registry(request)
    if registry is None:
        return problem(404, "not_found", N_("no such hall"))
    hall_id = request.path_params["hall"]
    columns = (devices.c.id, devices.c.last_seen, devices.c.telemetry, devices.c.rejected)
    async with reading(runtime_of(request).engine) as conn:
        rows = {row.id: row for row in await conn.execute(select(*columns).where(devices.c.hall_id == hall_id))}
    side = _devices_of(request)
    ordered = sorted(registry.devices.values(), key=lambda d: (_ORDER[d.status], d.counter or 0, d.id))
    listed = [_listed(d, rows.get(d.id), side) for d in ordered]
    secret = runtime_of(request).settings.secret_key
    for item, device in zip(listed, ordered, strict=True):
        # The address the technician opens on the screen a device belongs to (hall.web.screen_keys):
        # the kiosk beside a reader, a queue display's browser. For technicians only, as it lets
        # that page see and spend the cards the reader reads, or speak for the display.
        if device.status is not Status.ACTIVE:
            continue
        key = screen_key(secret, hall_id, device.id)
        if device.kind is Kind.ID_READER and device.counter is None:
            item["screen_url"] = f"/kiosk/{hall_id}?{urlencode({'reader': device.id, 'key': key})}"
        elif device.kind is Kind.QUEUE_DISPLAY:
            item["screen_url"] = f"/display/{hall_id}?{urlencode({'device': device.id, 'key': key})}"
    return JSONResponse(
        {
            "hall": hall_id,
            "bus": {"connected": side.bus.connected, "waiting": side.bus.waiting}
            if side is not None and side.broker
            else None,
            "counters": sorted(registry.counters),
            "devices": listed,
        }
    )


# -- registry changes --------------------------------------------------------------------------


def _counter_arg(data: Mapping[str, Any], registry: Registry) -> int | None:
    value = data.get("counter")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Problem(422, "invalid", N_("counter must be a whole number or null"), field="counter")
    if value not in registry.counters:
        raise Problem(
            422, "invalid", N_("there is no counter {counter} in this hall"), field="counter", say={"counter": value}
        )
    return value


async def _hall_elsewhere(request: Request, device_id: str) -> bool:
    """Device ids are unique across the installation (they are MQTT usernames): an id known in
    another hall must not be quietly moved here by a registration."""
    async with reading(runtime_of(request).engine) as conn:
        found = await conn.execute(select(devices.c.hall_id).where(devices.c.id == device_id))
        hall_id = found.scalar_one_or_none()
    return hall_id is not None and hall_id != request.path_params["hall"]


def _new_secret() -> tuple[str, str]:
    """A fresh device secret and its stored form."""
    # Imported here: the broker's file formats are not needed by a server that never registers.
    from devices.mosquitto import hash_secret

    secret = secrets.token_urlsafe(18)
    return secret, hash_secret(secret)


async def _with_secret(request: Request, command: Command, secret: str, created: bool) -> Response:
    """Submit a command that stores a new secret's hash; answer with the secret only when this very
    call stored it. A repeated command id returns the first result, whose secret is gone."""
    try:
        outcome: Outcome = await runtime_of(request).writer.submit(command)
    except CommandTimeout:
        return problem(
            503, "timeout", N_("the server did not finish this in time; it may still be done"), command_id=command.id
        )
    body: dict[str, Any] = {"command_id": command.id, "duplicate": outcome.duplicate, **localized(outcome.result)}
    if outcome.events:
        body["seq"] = outcome.events[-1].seq
    if not outcome.ok:
        return JSONResponse(body, status_code=status_of(str(outcome.result.get("code", outcome.result.get("error")))))
    if outcome.duplicate:
        body["secret_shown_once"] = True
        body["message"] = _("this was done already and its secret shown then; rekey the device for a new one")
        return JSONResponse(body)
    device_id = command.args["device"]
    body.update(username=device_id, secret=secret, secret_shown_once=True)
    return JSONResponse(body, status_code=201 if created else 200, headers={"cache-control": "no-store"})


@guarded(Access.staff(Role.TECHNICIAN))
async def register_device(request: Request) -> Response:
    """
    summary: Register a device (a new id, or one waiting as pending) and make its credentials.
    description: >
      The answer carries the device's MQTT username (its id) and a new secret, shown this once
      (``secret_shown_once``); only its hash is stored.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [device, kind]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              device: {type: string, pattern: "^[a-z0-9][a-z0-9-]{1,39}$"}
              kind:
                type: string
                enum: [kiosk, led, window, queue_display, rating_pad, id_reader, citizen_screen, keypad]
              counter: {type: integer, nullable: true}
    responses:
      201: {description: "the device and its secret, shown once"}
      409: {description: "registered already, or an id of another hall"}
      422: {description: "a bad id, kind or counter"}
    """
    registry = await _registry(request)
    if registry is None:
        return problem(404, "not_found", N_("no such hall"))
    data, command_id = await command_body(request)
    device_id = data.get("device")
    if not isinstance(device_id, str) or not valid_device_id(device_id):
        return problem(
            422, "invalid", N_("device must be 2 to 40 lower-case letters, digits or '-', not starting with '-'"),
            field="device",
        )  # fmt: skip
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in {k.value for k in Kind}:
        return problem(
            422,
            "invalid",
            N_("kind must be one of {names}"),
            field="kind",
            say={"names": ", ".join(k.value for k in Kind)},
        )
    counter = _counter_arg(data, registry)
    if Kind(kind).at_counter and counter is None:
        return problem(
            422, "invalid", N_("a {kind} belongs to a counter: give its number"), field="counter", say={"kind": kind}
        )
    if await _hall_elsewhere(request, device_id):
        return problem(409, "refused", N_("device '{device}' belongs to another hall"), device=device_id)
    member = member_of(request)
    secret, stored = _new_secret()
    args = {"device": device_id, "kind": kind, "counter": counter, "secret_hash": stored}
    command = Command(command_id, request.path_params["hall"], "device.register", member.actor, args)
    return await _with_secret(request, command, secret, created=True)


@guarded(Access.staff(Role.TECHNICIAN))
async def bind_device(request: Request) -> Response:
    """
    summary: Bind a registered device to a counter, or unbind it (counter null).
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [counter]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              counter: {type: integer, nullable: true}
    responses:
      200: {description: the device after the change}
      404: {description: no such device in this hall}
      409: {description: "not a registered device, or its kind needs a counter"}
      422: {description: no such counter in this hall}
    """
    registry = await _registry(request)
    if registry is None:
        return problem(404, "not_found", N_("no such hall"))
    data, command_id = await command_body(request)
    if "counter" not in data:
        return problem(422, "invalid", N_("give counter: a number, or null to unbind"), field="counter")
    counter = _counter_arg(data, registry)
    member = member_of(request)
    args = {"device": request.path_params["device"], "counter": counter}
    return await submit(request, Command(command_id, request.path_params["hall"], "device.bind", member.actor, args))


@guarded(Access.staff(Role.TECHNICIAN))
async def rekey_device(request: Request) -> Response:
    """
    summary: Give a registered device a new secret (shown this once); the old one stops working.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
    responses:
      200: {description: "the device and its new secret, shown once"}
      404: {description: no such device in this hall}
      409: {description: not a registered device}
    """
    _, command_id = await command_body(request)
    member = member_of(request)
    secret, stored = _new_secret()
    args = {"device": request.path_params["device"], "secret_hash": stored}
    command = Command(command_id, request.path_params["hall"], "device.rekey", member.actor, args)
    return await _with_secret(request, command, secret, created=False)


@guarded(Access.staff(Role.TECHNICIAN))
async def retire_device(request: Request) -> Response:
    """
    summary: Retire a device - it keeps its history, loses its credentials and its counter.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
    responses:
      200: {description: the device after the change}
      404: {description: no such device in this hall}
      409: {description: retired already}
    """
    _, command_id = await command_body(request)
    member = member_of(request)
    args = {"device": request.path_params["device"]}
    return await submit(request, Command(command_id, request.path_params["hall"], "device.retire", member.actor, args))


# -- commands to devices -----------------------------------------------------------------------


async def _recorded(request: Request, command_id: str) -> dict[str, Any] | None:
    async with reading(runtime_of(request).engine) as conn:
        row = (await conn.execute(select(device_commands).where(device_commands.c.id == command_id))).one_or_none()
    if row is None:
        return None
    sent_at = row.sent_at.isoformat() if row.sent_at else None
    return {
        "id": row.id,
        "device": row.device,
        "name": row.name,
        "status": row.status,
        "attempts": row.attempts,
        "sent_at": sent_at,
        "result": row.result,
        "duplicate": True,
    }


def _command_args(name: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict) or len(raw) > _MAX_ARGS:
        raise Problem(
            422,
            "invalid",
            N_("args must be an object of at most {limit} entries"),
            field="args",
            say={"limit": _MAX_ARGS},
        )
    for key, value in raw.items():
        if not isinstance(value, str | int | float | bool) or len(str(value)) > 64:
            raise Problem(
                422,
                "invalid",
                N_("args.{key} must be a short text, number or true/false"),
                field="args",
                say={"key": key},
            )
    if name == "brightness":
        percent = raw.get("percent")
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            raise Problem(422, "invalid", N_("brightness must be a whole number from 0 to 100"), field="percent")
    return {**SHOW_DEFAULTS, **raw} if name == "show" else dict(raw)


@guarded(Access.staff(Role.TECHNICIAN))
async def send_command(request: Request) -> Response:
    """
    summary: Send a command to a device and wait for its acknowledgement (resent up to 3 times).
    description: >
      ping (any device), show a test pattern (displays), reboot, paper_refill (kiosks); to a wired
      strip or window display ping, show, brightness (args.percent 0-100) and clear. The answer
      is the command's outcome - succeeded, failed, timed_out (no ack after every try) or expired
      (the bus was away too long) - with the attempts made and the device's result.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [name]
            properties:
              name: {type: string, enum: [ping, show, brightness, clear, reboot, paper_refill]}
              args: {type: object}
    responses:
      200: {description: the command's outcome}
      404: {description: no such device in this hall}
      409: {description: the device is not registered}
      422: {description: a command the device's kind does not take}
      503: {description: the server runs without a device bus}
    """
    data, command_id = await command_body(request)
    registry = await _registry(request)
    if registry is None:
        return problem(404, "not_found", N_("no such hall"))
    name = data.get("name")
    if not isinstance(name, str) or name not in COMMANDS:
        return problem(
            422, "invalid", N_("name must be one of {names}"), field="name", say={"names": ", ".join(COMMANDS)}
        )
    device_id = request.path_params["device"]
    device = registry.devices.get(device_id)
    if device is None:
        return problem(404, "not_found", N_("no device '{device}' in this hall"), device=device_id)
    if device.status is not Status.ACTIVE:
        return problem(409, "refused", N_("only a registered device takes commands"), device=device_id)
    if not command_applies(name, device.kind, device.wire is not None):
        kind = device.kind.value if device.kind else "device"
        return problem(
            422, "invalid", N_("a {kind} does not take '{name}'"), field="name", say={"kind": kind, "name": name}
        )
    args = _command_args(name, data.get("args"))
    side = _devices_of(request)
    # A wired device is reached over its line, broker or not; a network device only over the bus.
    if side is None or (not side.broker and device.wire is None):
        return problem(503, "no_bus", N_("this server runs without a device bus (HALL_MQTT_URL): no commands"))
    # The caller's command id goes to the device (which acts on an id once) and keys the outcome: a
    # retried request waits for, or reads, the same command instead of sending another.
    fits = valid_message_id(command_id)
    wire_id = command_id if fits else hashlib.sha256(command_id.encode()).hexdigest()[:40]
    done = await _recorded(request, wire_id)
    if done is not None:
        return JSONResponse(done)
    try:
        sent = await side.gateway.send(device_id, name, args, command_id=wire_id)
    except BadMessage as exc:
        # Registered a moment ago: the gateway rereads the registry from the event, shortly.
        return problem(
            409,
            "refused",
            N_("the device bus does not know the device yet ({detail}); try again"),
            say={"detail": exc.detail},
        )
    return JSONResponse(sent.as_json())


@guarded(Access.staff(Role.TECHNICIAN))
async def recent_commands(request: Request) -> Response:
    """
    summary: A device's commands in flight and its latest command outcomes, newest first (at most 50).
    responses:
      200: {description: in_flight and recent commands}
      404: {description: no such device in this hall}
    """
    registry = await _registry(request)
    device_id = request.path_params["device"]
    if registry is None or device_id not in registry.devices:
        return problem(404, "not_found", N_("no device '{device}' in this hall"), device=device_id)
    async with reading(runtime_of(request).engine) as conn:
        rows = await conn.execute(
            select(device_commands)
            .where(device_commands.c.hall_id == request.path_params["hall"], device_commands.c.device == device_id)
            .order_by(device_commands.c.done_at.desc())
            .limit(RECENT_COMMANDS)
        )
        recent = [
            {
                "id": r.id,
                "name": r.name,
                "status": r.status,
                "attempts": r.attempts,
                "sent_at": _iso(r.sent_at),
                "done_at": _iso(r.done_at),
                "result": r.result,
            }
            for r in rows
        ]
    side = _devices_of(request)
    in_flight = side.gateway.commands.in_flight(device_id) + side.serial.in_flight(device_id) if side else []
    return JSONResponse({"device": device_id, "in_flight": in_flight, "recent": recent})


# -- the ID card at a counter ------------------------------------------------------------------

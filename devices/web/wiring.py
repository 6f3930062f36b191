"""The technician's API for wired devices: a device's port and line settings, and the serial side
as the console shows it (the ports attached to the server, each line's state, its good and bad
frame counts and its last frames decoded, the bad ones with their reason).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from devices import serial
from devices.wires import protocol_of
from hall.kernel.events import Command
from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.web.access import guarded, member_of
from hall.web.api import command_body, submit
from hall.web.problems import problem
from hall.web.responses import JSONResponse


@guarded(Access.staff(Role.TECHNICIAN))
async def wire_device(request: Request) -> Response:
    """
    summary: Wire a registered device to a serial port (or a socket:// converter), or take it off (wire null).
    description: >
      Keypads and raters share a keypad bus, strips and window displays a display line, each at
      its own address; an ID card reader's SAM has its line to itself. Devices naming one port
      must agree on its settings and protocol.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [wire]
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
              wire:
                type: object
                nullable: true
                required: [port]
                properties:
                  port: {type: string, example: /dev/ttyUSB0}
                  baud: {type: integer, enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]}
                  parity: {type: string, enum: [N, E, O]}
                  data_bits: {type: integer, enum: [7, 8]}
                  stop_bits: {type: integer, enum: [1, 2]}
                  address: {type: integer, minimum: 1, maximum: 254, nullable: true}
    responses:
      200: {description: the device after the change}
      404: {description: no such device in this hall}
      409: {description: not a registered device}
      422: {description: "bad settings, or settings the port's other devices disagree with"}
    """
    data, command_id = await command_body(request)
    if "wire" not in data:
        return problem(422, "invalid", N_("give wire: the port and its settings, or null"), field="wire")
    member = member_of(request)
    args = {"device": request.path_params["device"], "wire": data["wire"]}
    return await submit(request, Command(command_id, request.path_params["hall"], "device.wire", member.actor, args))


@guarded(Access.staff(Role.TECHNICIAN))
async def serial_lines(request: Request) -> Response:
    """
    summary: The serial ports of the server machine and the lines of the hall's wired devices.
    description: >
      Each line with its settings, protocol, state (open, waiting to open again, closed, or
      elsewhere: open in another server process sharing the database, which reads and writes it and
      whose counters and frames are not here), how often
      it was opened, its last error, its devices (id, kind, address, presence: null until heard
      since the line opened), its decoder's counters, refusals by reason, and its last frames
      decoded (``ok`` false, with ``reason``, for those thrown away); and the PC/SC readers of the
      machine with the registered ID reader each is bound to (``pcsc``, null when the server
      watches none: HALL_PCSC_READERS).
    responses:
      200: {description: ports and lines}
    """
    side = runtime_of(request).devices
    hall_id = request.path_params["hall"]
    lines: list[dict[str, Any]] = []
    if side is not None:
        ours = {device.id: device for hall, device in side.gateway.known.wired() if hall == hall_id}
        for line in side.serial.as_json():
            members = [ours[d] for d in line.get("online", {}) if d in ours]
            if not members:
                continue
            # Each device with its address and presence, as the console lists a line's devices.
            line["protocol"] = protocol_of(members[0].kind).value
            line["devices"] = [
                {
                    "id": device.id,
                    "kind": device.kind.value if device.kind else None,
                    "counter": device.counter,
                    "address": (device.wire or {}).get("address"),
                    # A line open in another process: the presence that process recorded.
                    "online": device.online if line["state"] == "elsewhere" else line["online"].get(device.id),
                }
                for device in sorted(members, key=lambda d: ((d.wire or {}).get("address") or 0, d.id))
            ]
            lines.append(line)
    # PC/SC readers are the machine's, not the hall's: shown with the device each is bound to.
    readers = side.pcsc.as_json() if side is not None and side.pcsc is not None else None
    return JSONResponse({"ports": serial.ports(), "lines": lines, "pcsc": readers})

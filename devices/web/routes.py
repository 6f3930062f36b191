"""The devices' URLs: the technician's console page and the device API (under ``/api/v1``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from devices.web import api, pages, wiring
from hall.web import paths

# Before the routes below are made: their patterns name the convertors.
paths.register()

PAGES: list[BaseRoute] = [
    Route("/devices/{hall:id}", pages.devices_console, name="devices"),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:id}/devices", api.list_devices),
    Route("/halls/{hall:id}/devices", api.register_device, methods=["POST"]),
    Route("/halls/{hall:id}/devices/{device}/bind", api.bind_device, methods=["POST"]),
    Route("/halls/{hall:id}/devices/{device}/rekey", api.rekey_device, methods=["POST"]),
    Route("/halls/{hall:id}/devices/{device}/retire", api.retire_device, methods=["POST"]),
    Route("/halls/{hall:id}/devices/{device}/commands", api.recent_commands),
    Route("/halls/{hall:id}/devices/{device}/commands", api.send_command, methods=["POST"]),
    Route("/halls/{hall:id}/devices/{device}/wire", wiring.wire_device, methods=["POST"]),
    Route("/halls/{hall:id}/serial", wiring.serial_lines),
]

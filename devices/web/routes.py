"""The devices' URLs: the technician's console page and the device API (under ``/api/v1``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from devices.web import api, pages

PAGES: list[BaseRoute] = [
    Route("/devices/{hall:int}", pages.devices_console, name="devices"),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:int}/devices", api.list_devices),
    Route("/halls/{hall:int}/devices", api.register_device, methods=["POST"]),
    Route("/halls/{hall:int}/devices/{device}/bind", api.bind_device, methods=["POST"]),
    Route("/halls/{hall:int}/devices/{device}/rekey", api.rekey_device, methods=["POST"]),
    Route("/halls/{hall:int}/devices/{device}/retire", api.retire_device, methods=["POST"]),
    Route("/halls/{hall:int}/devices/{device}/commands", api.recent_commands),
    Route("/halls/{hall:int}/devices/{device}/commands", api.send_command, methods=["POST"]),
]

"""The queue's URLs: the screens of a hall's queue and its JSON API (under ``/api/v1``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from hall.web import paths
from queueing.web import alarms, api, people, public_pages, staff_pages, stats

# Before the routes below are made: their patterns name the convertors.
paths.register()

PAGES: list[BaseRoute] = [
    Route("/wallboard/{hall:id}", staff_pages.wallboard, name="wallboard"),
    Route("/stats/{hall:id}", stats.stats_page, name="stats"),
    Route("/counter/{hall:id}", staff_pages.counter_picker, name="counters"),
    Route("/counter/{hall:id}/{number:id}", staff_pages.counter_console, name="counter"),
    Route("/counter/{hall:id}/{number:id}/citizen", staff_pages.citizen_screen, name="citizen"),
    Route("/kiosk/{hall:id}", public_pages.kiosk, name="kiosk"),
    Route("/display/{hall:id}", public_pages.queue_display, name="display"),
    Route("/t/{hall:id}/{ticket}", public_pages.ticket_page, name="ticket"),
    Route("/t/{hall:id}/{ticket}/print", public_pages.ticket_print, name="ticket_print"),
    Route("/t/{hall:id}/{ticket}/qr.svg", public_pages.ticket_qr, name="ticket_qr"),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:id}/queue", api.queue_view),
    Route("/halls/{hall:id}/stats", stats.hall_stats),
    Route("/halls/{hall:id}/tickets", api.issue_ticket, methods=["POST"]),
    Route("/halls/{hall:id}/readers/{reader}", api.reader_status),
    Route("/id-numbers/check", api.check_id_number, methods=["POST"]),
    Route("/phones/masked", api.mask_phone_number, methods=["POST"]),
    Route("/halls/{hall:id}/tickets/{ticket}", api.ticket_view),
    Route("/halls/{hall:id}/tickets/{ticket}/escpos", api.ticket_escpos),
    Route("/halls/{hall:id}/tickets/{ticket}/{action}", api.ticket_action, methods=["POST"]),
    Route("/halls/{hall:id}/counters/{number:id}", api.counter_state),
    Route("/halls/{hall:id}/ratings", api.rate, methods=["POST"]),
    Route("/halls/{hall:id}/work-orders", api.work_orders),
    Route("/halls/{hall:id}/work-orders/{order}/{action}", api.work_order_action, methods=["POST"]),
    Route("/halls/{hall:id}/alarms", alarms.alarm_list),
    Route("/halls/{hall:id}/alarms/{alarm}/acknowledge", alarms.acknowledge_alarm, methods=["POST"]),
    Route("/halls/{hall:id}/counters/{number:id}/card", people.counter_card),
    Route("/halls/{hall:id}/counters/{number:id}/holder", people.counter_holder),
    Route("/halls/{hall:id}/counters/{number:id}/{action}", api.counter_action, methods=["POST"]),
]

"""The queue's URLs: the screens of a hall's queue and its JSON API (under ``/api/v1``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from queueing.web import api, pages, people

PAGES: list[BaseRoute] = [
    Route("/wallboard/{hall:int}", pages.wallboard, name="wallboard"),
    Route("/counter/{hall:int}", pages.counter_picker, name="counters"),
    Route("/counter/{hall:int}/{number:int}", pages.counter_console, name="counter"),
    Route("/counter/{hall:int}/{number:int}/citizen", pages.citizen_screen, name="citizen"),
    Route("/kiosk/{hall:int}", pages.kiosk, name="kiosk"),
    Route("/display/{hall:int}", pages.queue_display, name="display"),
    Route("/t/{hall:int}/{ticket}", pages.ticket_page, name="ticket"),
    Route("/t/{hall:int}/{ticket}/print", pages.ticket_print, name="ticket_print"),
    Route("/t/{hall:int}/{ticket}/qr.svg", pages.ticket_qr, name="ticket_qr"),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:int}/queue", api.queue_view),
    Route("/halls/{hall:int}/tickets", api.issue_ticket, methods=["POST"]),
    Route("/halls/{hall:int}/readers/{reader}", api.reader_status),
    Route("/id-numbers/check", api.check_id_number, methods=["POST"]),
    Route("/halls/{hall:int}/tickets/{ticket}", api.ticket_view),
    Route("/halls/{hall:int}/tickets/{ticket}/escpos", api.ticket_escpos),
    Route("/halls/{hall:int}/tickets/{ticket}/{action}", api.ticket_action, methods=["POST"]),
    Route("/halls/{hall:int}/counters/{number:int}", api.counter_state),
    Route("/halls/{hall:int}/ratings", api.rate, methods=["POST"]),
    Route("/halls/{hall:int}/work-orders", api.work_orders),
    Route("/halls/{hall:int}/work-orders/{order}/{action}", api.work_order_action, methods=["POST"]),
    Route("/halls/{hall:int}/counters/{number:int}/card", people.counter_card),
    Route("/halls/{hall:int}/counters/{number:int}/holder", people.counter_holder),
    Route("/halls/{hall:int}/counters/{number:int}/{action}", api.counter_action, methods=["POST"]),
]

"""The URLs of setting halls up: pages, then the API (mounted under /api/v1)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from hall.admin.web import api, pages
from hall.web import paths

paths.register()

PAGES: list[BaseRoute] = [
    Route("/admin/halls/{hall:id}", pages.halls_page, methods=["GET", "POST"], name="admin_halls"),
    Route("/admin/departments/{hall:id}", pages.departments_page, methods=["GET", "POST"], name="admin_departments"),
    Route("/admin/services/{hall:id}", pages.services_page, methods=["GET", "POST"], name="admin_services"),
    Route("/admin/services/{hall:id}/new", pages.service_page, methods=["GET", "POST"], name="admin_service_new"),
    Route("/admin/services/{hall:id}/{code}/edit", pages.service_page, methods=["GET", "POST"], name="admin_service"),
    Route("/admin/counters/{hall:id}", pages.counters_page, methods=["GET", "POST"], name="admin_counters"),
    Route("/admin/counters/{hall:id}/new", pages.counter_page, methods=["GET", "POST"], name="admin_counter_new"),
    Route(
        "/admin/counters/{hall:id}/{number:id}/edit", pages.counter_page, methods=["GET", "POST"], name="admin_counter"
    ),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:id}/setup", api.show_setup),
    Route("/halls/{hall:id}/setup/hall", api.change_hall, methods=["POST"]),
    Route("/halls/{hall:id}/setup/halls", api.create_hall, methods=["POST"]),
    Route("/halls/{hall:id}/setup/departments", api.create_department, methods=["POST"]),
    Route("/halls/{hall:id}/setup/departments/{code}", api.change_department, methods=["POST"]),
    Route("/halls/{hall:id}/setup/services", api.create_service, methods=["POST"]),
    Route("/halls/{hall:id}/setup/services/{code}", api.change_service, methods=["POST"]),
    Route("/halls/{hall:id}/setup/services/{code}/deactivate", api.deactivate_service, methods=["POST"]),
    Route("/halls/{hall:id}/setup/services/{code}/activate", api.activate_service, methods=["POST"]),
    Route("/halls/{hall:id}/setup/counters", api.create_counter, methods=["POST"]),
    Route("/halls/{hall:id}/setup/counters/{number:id}", api.change_counter, methods=["POST"]),
    Route("/halls/{hall:id}/setup/counters/{number:id}/deactivate", api.deactivate_counter, methods=["POST"]),
    Route("/halls/{hall:id}/setup/counters/{number:id}/activate", api.activate_counter, methods=["POST"]),
]

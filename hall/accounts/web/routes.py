"""The URLs of staff accounts: pages, then the API (mounted under /api/v1)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from hall.accounts.web import api, pages

PAGES: list[BaseRoute] = [
    Route("/account/password", pages.password_page, methods=["GET", "POST"], name="account_password"),
    Route("/admin/staff/{hall:id}", pages.staff_page, methods=["GET", "POST"], name="admin_staff"),
]

API: list[BaseRoute] = [
    Route("/me/password", api.change_my_password, methods=["POST"]),
    Route("/halls/{hall:id}/staff", api.list_staff),
    Route("/halls/{hall:id}/staff", api.create_staff, methods=["POST"]),
    Route("/halls/{hall:id}/staff/{username}", api.change_staff, methods=["POST"]),
    Route("/halls/{hall:id}/staff/{username}/deactivate", api.deactivate_staff, methods=["POST"]),
    Route("/halls/{hall:id}/staff/{username}/activate", api.activate_staff, methods=["POST"]),
    Route("/halls/{hall:id}/staff/{username}/reset-password", api.reset_staff_password, methods=["POST"]),
]

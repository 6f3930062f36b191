"""Rendering a page: the one call every endpoint makes to answer with a template, and the error page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """A page: the template with the context, in the visitor's language, with the staff member and
    the CSRF token every page's layout needs."""
    templates: Jinja2Templates = request.app.state.hall.templates
    return templates.TemplateResponse(request, template, dict(context or {}), status_code=status_code)


def error_page(request: Request, status: int, message: str) -> Response:
    """The site's error page with its status and a message for people (already translated)."""
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)

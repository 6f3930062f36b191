"""Rendering shared by every page: the templates, the error page, texts in two languages, QR codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage
from sqlalchemy import select
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from hall.kernel import i18n, jsontext
from hall.kernel.i18n import _, translations
from hall.kernel.i18n import current as _locale
from hall.storage.database import reading
from hall.storage.tables import halls
from hall.web.access import csrf_token, staff_of
from hall.web.problems import Problem


def public_site(request: Request) -> str:
    """The address residents reach the server at, for anything that leaves the screen (a QR code,
    a printed sheet): HALL_PUBLIC_URL, else the address the server listens on. Never the request's
    Host header, which the caller chooses (a cached QR code would send the next resident elsewhere)."""
    base: str = request.app.state.hall.settings.base_url
    return base.rstrip("/")


def make_templates(directories: Sequence[Path]) -> Jinja2Templates:
    """The page templates: each part of hall keeps its own folder; names are unique across them."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in directories]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.finalize = _encodable
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_locale"] = i18n.current.get
    env.globals["html_lang"] = lambda: i18n.HTML_LANG[i18n.current.get()]
    env.globals["local_name"] = local_name
    return Jinja2Templates(env=env, context_processors=[_page_context])


def local_name(row: Any) -> str:
    """A hall's (or a service's) name in the page's language: its English name on an English page
    where it has one, its Chinese name otherwise."""
    english = getattr(row, "name_en", None)
    return str(english) if english and i18n.current.get() != "zh_CN" else str(row.name)


def _encodable(value: Any) -> Any:
    """Every value a page prints, with lone surrogates replaced: text stored before input was
    checked must still render, not fail the whole page when it is encoded to UTF-8."""
    if isinstance(value, Markup):
        # Already escaped: replacing a surrogate by U+FFFD adds no markup.
        return value if jsontext.valid_text(value) else Markup(jsontext.scrub(str(value)))  # noqa: S704
    if isinstance(value, str):
        return jsontext.scrub(value)
    return value


def _page_context(request: Request) -> dict[str, Any]:
    # Every page carries the halls' zone (<meta name="hall-timezone">): its scripts show times on the
    # hall's clock, not the browser's (static/js/page.js, clockTime).
    timezone: str = request.app.state.hall.settings.timezone
    return {"staff": staff_of(request), "csrf_token": csrf_token(request), "hall_timezone": timezone}


async def hall_and_state(request: Request, domain: str) -> tuple[Any, Any]:
    """The hall named in the path and a domain's state of it, or the error page for a hall that
    does not exist."""
    runtime = request.app.state.hall
    hall_id = request.path_params["hall"]
    async with reading(runtime.engine) as conn:
        row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
    found = await runtime.writer.read_state(hall_id, domain) if row is not None else None
    if row is None or found is None:
        raise Problem(404, "not_found", _("No such hall."))
    return row, found[1]


Pair = tuple[str, str]


def pairs(words: Mapping[str, str], *, both: bool = False) -> dict[str, Pair]:
    """Each text in the visitor's language and, beneath it, in English (the message id itself);
    the English is left out when the visitor reads English anyway. ``both`` always gives Chinese
    and English, for screens that everyone in the hall reads at once."""
    if both:
        chinese = translations("zh_CN")
        return {key: (chinese.gettext(message), message) for key, message in words.items()}
    english = _locale.get() == "en"
    return {key: (_(message), "" if english else message) for key, message in words.items()}


def fill(pair: Pair, **values: object) -> Pair:
    main, english = pair
    for name, value in values.items():
        main = main.replace(f"{{{name}}}", str(value))
        english = english.replace(f"{{{name}}}", str(value))
    return main, english


class QRImage(SvgPathImage):  # type: ignore[misc]
    """A QR code as SVG with white behind the modules, so it scans on a dark page or a phone in dark mode too."""

    # White behind the modules, so the code scans on a dark page or a phone in dark mode too.
    background = "#ffffff"

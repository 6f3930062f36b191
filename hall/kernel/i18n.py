"""Chinese first, English second: Babel catalogs compiled in memory at start.

Message ids are English; ``zh_CN`` is the default locale, and its catalog must translate every id
(a test checks). A visitor switches with ``?lang=en`` (kept in a cookie).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT = "zh_CN"
LOCALES = ("zh_CN", "en")
LANG_COOKIE = "hall_lang"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

# The catalogs are the whole project's: they sit at the top of the application package.
_DIR = Path(__file__).resolve().parent.parent / "translations"
current: ContextVar[str] = ContextVar("hall_locale", default=DEFAULT)


@cache
def translations(locale: str) -> NullTranslations:
    po = _DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def choose(requested: str | None) -> str:
    if requested is None:
        return DEFAULT
    normal = requested.replace("-", "_")
    for locale in LOCALES:
        if normal.lower() == locale.lower() or normal.lower() == locale.split("_")[0].lower():
            return locale
    return DEFAULT


def gettext(message: str) -> str:
    return translations(current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message

"""Chinese first, English second: Babel catalogs compiled in memory at start.

Message ids are English; ``zh_CN`` is the default locale, and its catalog must translate every id
(a test checks). A visitor switches with ``?lang=en`` (kept in a cookie).

A message that is made far from any request (a rule refusing a command in the writer's task) is a
``Text``: its English id, whose ``{name}`` fields are filled after translation, and their values. It
is put into a language at the edge that answers a person (``Text.said``, ``localized``), so one
refusal reads in Chinese on a Chinese page and in English on an English one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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


# The key under which a refusal's untranslated text travels in a command's stored result.
TEXT_KEY = "text"
_FIELD = re.compile(r"\{(\w+)\}")


def fill(template: str, values: Mapping[str, object]) -> str:
    """``{name}`` fields filled from ``values``; an unknown field stays as it is (as ``page.js``'s fill)."""
    return _FIELD.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], template)


@dataclass(frozen=True)
class Text:
    """A message not yet in a language: an English catalog id with ``{name}`` fields, their values
    (a value may be a ``Text`` too: a state's word, an object's name), and a catalog context for
    a short word whose id alone would be ambiguous (``state``: "open", "closed")."""

    id: str
    args: Mapping[str, Any] = field(default_factory=dict)
    context: str | None = None

    def said(self, locale: str | None = None) -> str:
        """The text in ``locale``, the current request's language when not given."""
        catalog = translations(locale or current.get())
        template = str(catalog.pgettext(self.context, self.id) if self.context else catalog.gettext(self.id))
        return fill(template, {k: v.said(locale) if isinstance(v, Text) else v for k, v in self.args.items()})

    @property
    def english(self) -> str:
        return self.said("en")

    def as_json(self) -> dict[str, Any]:
        args = {k: v.as_json() if isinstance(v, Text) else v for k, v in self.args.items()}
        return {"id": self.id, "args": args, **({"context": self.context} if self.context else {})}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Text:
        args = {k: cls.from_json(v) if _is_text(v) else v for k, v in dict(data.get("args") or {}).items()}
        return cls(str(data["id"]), args, data.get("context"))


def _is_text(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("id"), str) and isinstance(value.get("args"), Mapping)


def localized(body: Mapping[str, Any], locale: str | None = None) -> dict[str, Any]:
    """An error's answer with its ``message`` in ``locale`` (the request's when not given), made from
    the untranslated text it carries under ``TEXT_KEY``; a body without one keeps its message."""
    found = {k: v for k, v in body.items() if k != TEXT_KEY}
    text = body.get(TEXT_KEY)
    if isinstance(text, Mapping) and _is_text(text):
        found["message"] = Text.from_json(text).said(locale)
    return found

"""JSON from outside (a request body, a websocket frame, a device's message), read so that it
cannot hurt anyone: nested at most ``MAX_DEPTH`` deep (a deeper document is refused, not answered
with a RecursionError), text that is valid Unicode (a lone UTF-16 surrogate can be parsed but never
stored in PostgreSQL nor encoded to UTF-8 again), whole numbers that fit a 64-bit column, and no
NaN or Infinity (RFC 8259 §6 has none).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
INT_MAX = 2**63 - 1


class BadJson(ValueError):
    """JSON that is refused; ``code`` says why (``bad_json``, ``too_deep``, ``bad_text``, ``bad_number``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _no_constant(name: str) -> Any:
    raise BadJson("bad_number", f"{name} is not a JSON number")


def valid_text(text: str) -> bool:
    """Whether the text encodes to UTF-8: no lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The document in ``text``, checked as the module docstring says.

    Raises:
        BadJson: not JSON, or JSON this module refuses.
    """
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except BadJson:
        raise
    except (ValueError, RecursionError):
        raise BadJson("bad_json", "not valid JSON") from None
    check(document, max_depth=max_depth)
    return document


def check(document: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Raises ``BadJson`` when a parsed document breaks the rules of ``loads``."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise BadJson("too_deep", f"nested deeper than {max_depth} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and not valid_text(key):
                    raise BadJson("bad_text", "a name is not valid Unicode text")
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            if not valid_text(value):
                raise BadJson("bad_text", "a text is not valid Unicode (a lone surrogate)")
        elif isinstance(value, int) and not isinstance(value, bool) and not -INT_MAX - 1 <= value <= INT_MAX:
            raise BadJson("bad_number", "a whole number is larger than 64 bits")


def scrub(text: str) -> str:
    """``text`` with any lone surrogate replaced by U+FFFD, so that it encodes to UTF-8."""
    if valid_text(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def dumps(document: Any, **options: Any) -> str:
    """JSON text that always encodes to UTF-8, whatever text was stored before ``loads`` guarded
    the way in: characters as themselves where they can be, ``\\uXXXX`` escapes where not (a lone
    surrogate), so one bad value never turns a whole answer into an error."""
    options.setdefault("separators", (",", ":"))
    text = json.dumps(document, ensure_ascii=False, **options)
    if valid_text(text):
        return text
    return json.dumps(document, ensure_ascii=True, **options)

"""The JSON answer every route gives: Starlette's, encoded so that stored text always renders."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse as _StarletteJSON

from hall.kernel import jsontext


class JSONResponse(_StarletteJSON):
    """Starlette's JSONResponse would fail with a UnicodeEncodeError (a 500, for good) on one lone
    surrogate in any stored text; this one escapes it instead (``hall.kernel.jsontext.dumps``)."""

    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content, allow_nan=False).encode("utf-8")

"""The convertors of hall's URL patterns: ``{hall:id}`` and ``{number:id}`` for ids that fit a
64-bit column (Starlette's ``int`` takes any run of digits, and a 30-digit hall id reached the
database as an overflow: 500 instead of 404), ``{number:case}`` for a case number.

Every ``<part>/web/routes.py`` calls ``register()`` before it makes its routes: a pattern is compiled
when its route is made, with the convertors known then.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

# At most 18 digits: every such number is below 2**63.
ID_PATTERN = "[0-9]{1,18}"


class IdConvertor(Convertor[int]):
    """A positive whole number that fits a 64-bit column; longer digit runs match no route (404)."""

    regex = ID_PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**18:
            raise ValueError(f"not an id: {value}")
        return str(value)


def register() -> None:
    register_url_convertor("id", IdConvertor())

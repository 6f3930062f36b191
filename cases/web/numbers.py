"""A public case number, as paths and look-ups take it: 8 to 32 digits (the register writes the
day, the hall tree's root and a count, ``cases.register``). One check for every route and body."""

from __future__ import annotations

import re

from starlette.convertors import Convertor

CASE_NUMBER = re.compile(r"[0-9]{8,32}")


def is_case_number(text: object) -> bool:
    return isinstance(text, str) and CASE_NUMBER.fullmatch(text) is not None


class CaseNumberConvertor(Convertor[str]):
    """``{number:case}`` in a route: a path with anything else in its place matches no route (404)."""

    regex = CASE_NUMBER.pattern

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        if not is_case_number(value):
            raise ValueError(f"not a case number: {value!r}")
        return value

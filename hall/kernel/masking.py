"""Personal data as screens, events and exports show it: masked everywhere but the case record.

One rule for the whole project, here and nowhere else (``tests/kernel/test_masking.py`` looks for
masking code elsewhere, and checks that every surface that masks gives these forms):

- an ID number shows its first 3 and last 4 characters (``110***********002X``): GB 11643 numbers
  carry the birth date in digits 7–14, and those are always hidden, as is the county of birth;
- a name shows its first character, the surname of most Chinese names (``张**``);
- a phone number shows its first 3 and last 4 digits (``138****5678``).

Browser pages never mask for themselves: they get these forms from the server.
"""

from __future__ import annotations

_ID_HEAD, _ID_TAIL = 3, 4
_PHONE_HEAD, _PHONE_TAIL = 3, 4


def _keep(text: str, head: int, tail: int) -> str:
    """``text`` with all but its first ``head`` and last ``tail`` characters starred; all of it
    starred when it is too short to hide anything between them."""
    text = text.strip()
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_name(name: str) -> str:
    """张三丰 → 张**; a name is shown by its first character only."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask_id(number: str) -> str:
    """An ID number shown as its first 3 and last 4 characters (110***********1234)."""
    return _keep(number, _ID_HEAD, _ID_TAIL)


def mask_phone(phone: str) -> str:
    """A phone number shown as its first 3 and last 4 digits (138****5678); a landline keeps
    part of its area code (010*****5678)."""
    return _keep(phone, _PHONE_HEAD, _PHONE_TAIL)

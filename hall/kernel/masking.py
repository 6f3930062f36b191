"""Personal data as screens, events and exports show it: masked everywhere but the case record.

An ID number hides its middle, birth date included (GB 11643 numbers carry it in digits 7–14);
a name shows its first character only.
"""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三丰 → 张**; a name is shown by its first character only."""
    name = name.strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask_id(number: str) -> str:
    """An ID number shown as its first 3 and last 4 characters (110***********1234)."""
    number = number.strip()
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]

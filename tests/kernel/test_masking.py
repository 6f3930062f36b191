"""One masking rule for the whole project (hall/kernel/masking.py): the forms it gives, every
surface that masks giving those forms, and no masking code anywhere else, Python or JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cases.case_lists import masked_applicant
from cases.case_model import Applicant
from devices.kinds import Card
from hall.kernel.masking import mask_id, mask_name, mask_phone
from queueing.tickets import Holder

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "11010519491231002X"
MASKED_ID = "110***********002X"


def test_an_id_number_keeps_its_first_3_and_last_4_characters_and_never_its_birth_date() -> None:
    assert mask_id(ID_NUMBER) == MASKED_ID
    assert mask_id(f"  {ID_NUMBER} ") == MASKED_ID
    # GB 11643: digits 7–14 are the birth date (19491231).
    assert "19491231" not in mask_id(ID_NUMBER) and mask_id(ID_NUMBER)[6:14] == "*" * 8
    # A first-generation 15-digit number keeps the same ends.
    assert mask_id("110105491231002") == "110********1002"
    # Too short to hide anything between the ends: all hidden.
    assert mask_id("1234567") == "*******"
    assert mask_id("") == ""


def test_a_name_keeps_its_first_character_and_a_phone_its_first_3_and_last_4_digits() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("王五") == "王*"
    assert mask_name("张") == "张*"
    assert mask_name("  ") == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("010-12345678") == "010*****5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


def test_every_surface_that_masks_gives_the_same_forms() -> None:
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    expected = {"name": "王**", "id_number": MASKED_ID}
    # A ticket's holder (events, the counter's console, exports).
    assert Holder("王秀英", ID_NUMBER).masked() == expected
    # An ID card read at a counter (the clerk sees the name whole) or at a kiosk (the screen does not).
    card = Card("reader-1", 1, "王秀英", ID_NUMBER, now, {})
    assert card.masked()["id_number"] == MASKED_ID
    assert card.public()["name"] == "王**"
    # A case's applicant, in its facts and in its lists.
    applicant = Applicant("王秀英", ID_NUMBER, "13812345678")
    assert applicant.masked() == {**expected, "phone": "138****5678"}
    record = {"applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "13812345678"}}
    assert masked_applicant(record) == applicant.masked()


# Code that builds a mask: a run of stars repeated, padded or joined to a slice, in Python or JS.
_MASKING = [
    re.compile(r"""["']\*+["']\s*\*\s*[\w(]"""),  # "*" * n
    re.compile(r"""[\w)]\s*\*\s*["']\*+["']"""),  # n * "*"
    re.compile(r"""["']\*+["']\s*\.repeat\("""),  # "*".repeat(n)
    re.compile(r"""\.pad(Start|End)\([^)]*["']\*["']"""),  # s.padEnd(n, "*")
    re.compile(r"""\.replace\(.*["']\*+["']\s*\)"""),  # s.replace(/\d/g, "*")
    re.compile(r"""["']\*{2,}["']\s*\+|\+\s*["']\*{2,}["']"""),  # head + "****" + tail
]
# The one place, and the files that may spell stars for other reasons (a heading rule, say).
_ALLOWED = {Path("hall/kernel/masking.py")}
_SKIPPED_DIRS = {"node_modules", "tests", "test-artifacts", ".git", "vendor", "__pycache__", "bench"}


def _sources() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if path.suffix not in (".py", ".js", ".html") or not path.is_file():
            continue
        if _SKIPPED_DIRS & set(relative.parts) or relative in _ALLOWED:
            continue
        found.append(relative)
    return found


def test_no_code_outside_the_kernel_masks_for_itself() -> None:
    sources = _sources()
    assert Path("devices/kinds.py") in sources and Path("static/js/citizen.js") in sources
    offending = []
    for relative in sources:
        for number, line in enumerate((ROOT / relative).read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in _MASKING):
                offending.append(f"{relative}:{number}: {line.strip()}")
    assert not offending, "mask with hall.kernel.masking (the browser gets masked values):\n" + "\n".join(offending)


@pytest.mark.parametrize(
    "line",
    [
        'return number[:4] + "*" * (len(number) - 8) + number[-4:]',
        "const shown = phone.slice(0, 3) + '****' + phone.slice(-4);",
        'shown = "*".repeat(n);',
        'id.padEnd(18, "*")',
        "phone.replace(/\\d(?=\\d{4})/g, '*')",
    ],
)
def test_the_scan_recognises_masking_code(line: str) -> None:
    assert any(p.search(line) for p in _MASKING)

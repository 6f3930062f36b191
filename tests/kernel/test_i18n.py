"""Chinese first: every message in code and templates has a zh_CN translation."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hall.kernel import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    found: set[str] = set()
    for package in ("hall", "realtime", "queueing", "devices", "displays", "cases"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / package, METHODS, keywords={"_": None, "N_": None, "gettext": None}, options_map=OPTIONS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation() -> None:
    with (ROOT / "hall/translations/zh_CN/LC_MESSAGES/messages.po").open("rb") as source:
        catalog = read_po(source)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - translated)
    assert missing == []
    assert len(translated) >= 30


def test_each_message_is_in_the_catalog_once() -> None:
    """Two entries for one message: the first translation wins and the other is never seen (the
    wallboard's on-time rate once read 按时办结件数, a count's word)."""
    text = (ROOT / "hall/translations/zh_CN/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    entry = re.compile(r'^(?:msgctxt ("(?:[^"\\]|\\.)*")\n)?msgid ((?:"(?:[^"\\]|\\.)*"\n?)+)', re.M)
    ids = Counter(
        (
            ast.literal_eval(context) if context else None,
            "".join(ast.literal_eval(part) for part in parts.split("\n") if part),
        )
        for context, parts in entry.findall(text)
    )
    assert len(ids) > 100
    assert [key for key, n in ids.items() if n > 1] == []


def test_chinese_is_the_default_and_english_is_a_choice() -> None:
    assert i18n.choose(None) == "zh_CN"
    assert i18n.choose("en") == "en"
    assert i18n.choose("zh-CN") == "zh_CN"
    assert i18n.choose("fr") == "zh_CN"
    token = i18n.current.set("zh_CN")
    try:
        assert i18n.gettext("Log in") == "登录"
    finally:
        i18n.current.reset(token)

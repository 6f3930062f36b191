"""The words of a call: what the LED strip, the queue display and the counter's screen show, and
what the voice says. Chinese first, English second.

Public screens show both languages at once, so the templates are explicit per locale here rather
than Babel messages chosen by the visitor's language (hall/i18n.py). Everything is pure.
"""

from __future__ import annotations

import re
import unicodedata

LOCALES = ("zh_CN", "en")

# espeak-ng voices. In Debian's espeak-ng 1.51 only ``cmn-latn-pinyin`` reads Chinese characters
# with Mandarin phonemes; plain ``cmn`` falls back to English rules for most of them.
VOICES = {"zh_CN": "cmn-latn-pinyin", "en": "en"}

# A 256×16 strip holds 16 Chinese characters: 32 cells, one per half-width character.
LED_CELLS = 32

_TEMPLATES: dict[str, dict[str, str]] = {
    "zh_CN": {
        "call": "请 {number} 号到 {counter} 号窗口办理",
        # The full-width comma gives a short pause before the counter.
        "speech": "请 {number} 号，到 {counter} 号窗口办理",
        "led": "请{number}号到{counter}号窗口",
        "title": "{counter} 号窗口",
        "called": "请 {number}",
        "serving": "正在办理 {number}",
        "open": "欢迎光临",
        "paused": "暂停服务",
        "closed": "窗口关闭",
    },
    "en": {
        "call": "Number {number}, please go to counter {counter}.",
        "speech": "Number {number}, please go to counter {counter}.",
        "led": "{number} to counter {counter}",
        "title": "Counter {counter}",
        "called": "Calling {number}",
        "serving": "Serving {number}",
        "open": "Welcome",
        "paused": "Service paused",
        "closed": "Counter closed",
    },
}

COUNTER_STATES = ("open", "paused", "closed")

# Ticket numbers as queueing.services.Service.number prints them: up to two capital letters and
# the daily number (A023, AB0101, 23).
_NUMBER = re.compile(r"([A-Z]{0,2})([0-9]{1,6})")
_HANZI_DIGITS = "零一二三四五六七八九"


def _words(locale: str) -> dict[str, str]:
    try:
        return _TEMPLATES[locale]
    except KeyError:
        raise ValueError(f"no display texts for locale {locale!r}; known: {', '.join(LOCALES)}") from None


def _split(number: str) -> tuple[str, str]:
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise ValueError(f"not a ticket number: {number!r}")
    return match[1], match[2]


def _counter(counter: int) -> int:
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 1:
        raise ValueError(f"counter numbers start at 1: {counter!r}")
    return counter


def call_text(number: str, counter: int, locale: str) -> str:
    """The call as written: ``请 A023 号到 5 号窗口办理`` / ``Number A023, please go to counter 5.``"""
    _split(number)
    return _words(locale)["call"].format(number=number, counter=_counter(counter))


def spoken_number(number: str, locale: str) -> str:
    """A ticket number spelled so that espeak-ng reads it letter by letter and digit by digit.

    Written as digits, ``A023`` would be read as "A twenty-three" (二十三). Mandarin: each letter
    on its own (the voice names it: A → "ei") and each digit as a Chinese numeral, all spaced:
    ``A 零 二 三``. English: a lone ``A`` is read as the article, so the letters are joined with
    hyphens and glued to the first digit, which makes espeak spell them: ``A0 2 3``, ``A-B0 1 1``.
    Checked with ``espeak-ng -x`` (tests/test_voice.py).
    """
    letters, digits = _split(number)
    if locale == "zh_CN":
        return " ".join([*letters, *(_HANZI_DIGITS[int(d)] for d in digits)])
    _words(locale)
    head = "-".join(letters) + digits[0]
    return " ".join([head, *digits[1:]])


def speech_text(number: str, counter: int, locale: str) -> str:
    """What the voice says: ``请 A 零 二 三 号，到 5 号窗口办理`` / ``Number A0 2 3, please go to counter 5.``

    The counter stays in digits: espeak-ng reads it as a cardinal (12 → 十二), as people say it."""
    return _words(locale)["speech"].format(number=spoken_number(number, locale), counter=_counter(counter))


def cells(text: str) -> int:
    """Width on an LED strip in half-width cells: two for wide characters, one for the rest.

    Ambiguous characters (…, ·, —) count as wide because LED controllers draw them from GB2312
    fonts, where they are double-byte."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F", "A") else 1
    return width


def fit(text: str, width: int = LED_CELLS, *, ellipsis: str = "…") -> str:
    """``text`` cut to ``width`` cells, ending in ``ellipsis`` when cut."""
    if width < 1:
        raise ValueError("an LED line is at least one cell wide")
    text = " ".join(text.split())
    if cells(text) <= width:
        return text
    room = width - cells(ellipsis)
    if room < 0:
        ellipsis, room = "", width
    out: list[str] = []
    used = 0
    for char in text:
        need = cells(char)
        if used + need > room:
            break
        out.append(char)
        used += need
    return "".join(out).rstrip() + ellipsis


def led_line(number: str, counter: int, locale: str, width: int = LED_CELLS) -> str:
    """One line for the hall's LED strip: ``请A023号到5号窗口`` / ``A023 to counter 5``."""
    _split(number)
    return fit(_words(locale)["led"].format(number=number, counter=_counter(counter)), width)


def led_lines(number: str, counter: int, width: int = LED_CELLS) -> tuple[str, ...]:
    """The strip's lines for a call, Chinese first; the strip shows them in turn."""
    return tuple(led_line(number, counter, locale, width) for locale in LOCALES)


def counter_title(counter: int, locale: str) -> str:
    """The counter's name on its own screen: ``5 号窗口`` / ``Counter 5``."""
    return _words(locale)["title"].format(counter=_counter(counter))


def counter_text(status: str, number: str | None, locale: str, *, serving: bool = False) -> str:
    """The counter screen's main line: the ticket called (``请 A023``) or being served, or the
    counter's state (``暂停服务``, ``窗口关闭``). A paused or closed counter shows its state even
    when a ticket is still on it."""
    if status not in COUNTER_STATES:
        raise ValueError(f"counter status must be one of {', '.join(COUNTER_STATES)}: {status!r}")
    words = _words(locale)
    if status != "open" or number is None:
        return words[status]
    _split(number)
    return words["serving" if serving else "called"].format(number=number)

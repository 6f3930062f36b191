"""The spoken call as a sequence of pre-rendered clips: which clips exist, what each one says, and
which of them, in which order, make the call "请 A 零 二 三 号，到 12 号窗口办理" or "Number A 0 2 3,
please go to counter 12".

A call is assembled from short clips so that it can be spoken on any server, without a speech
engine installed. ``scripts/voice-clips`` renders every clip listed here once with espeak-ng and
commits the files (``displays/voice_clips/<locale>/<name>.mp3``); displays/voice.py joins them.
The words are those of displays/texts.py's ``speech`` templates, cut at the places a number
goes in. Pure: no files are read here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LOCALES = ("zh_CN", "en")
PAUSE = "pause"
"""The short silence of the comma in "号，到": a clip of silence, made by the script, not spoken."""
PAUSE_SECONDS = 0.25

# Ticket numbers as queueing.services.Service.number prints them: up to two capital letters and
# the daily number (A023, AB0101, 23). The same pattern as displays.texts.
_NUMBER = re.compile(r"([A-Z]{0,2})([0-9]{1,6})")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HANZI_DIGITS = "零一二三四五六七八九"
_ENGLISH_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_ENGLISH_TENS = (None, None, "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
MAX_COUNTER = 999


# A letter said on its own is its name in both voices ("ei", "kiou"; "A", "Q").
_LETTER_CLIPS = {f"letter_{letter}": letter for letter in _LETTERS}


def _mandarin() -> dict[str, str]:
    texts = {"please": "请", "hao": "号", "to": "到", "counter": "号窗口办理", "shi": "十", "bai": "百"}
    texts.update({f"digit_{d}": _HANZI_DIGITS[d] for d in range(10)})
    return {**texts, **_LETTER_CLIPS}


def _english() -> dict[str, str]:
    texts = {"number": "Number", "go_to": "please go to counter", "hundred": "hundred", "and": "and"}
    texts.update({f"n_{n}": word for n, word in enumerate(_ENGLISH_UNITS)})
    texts.update({f"n_{n * 10}": word for n, word in enumerate(_ENGLISH_TENS) if word})
    return {**texts, **_LETTER_CLIPS}


CLIPS: Mapping[str, Mapping[str, str]] = {"zh_CN": _mandarin(), "en": _english()}
"""Every spoken clip per locale: file name (without ``.mp3``) → the text espeak-ng says. The
pause is not listed: it is silence."""


def _split(number: str) -> tuple[str, str]:
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise ValueError(f"not a ticket number: {number!r}")
    return match[1], match[2]


def _counter(counter: int) -> int:
    if isinstance(counter, bool) or not isinstance(counter, int) or not 1 <= counter <= MAX_COUNTER:
        raise ValueError(f"counter numbers run from 1 to {MAX_COUNTER}: {counter!r}")
    return counter


def mandarin_count(n: int) -> list[str]:
    """A counter number as Mandarin says it, in clips: 5 五, 10 十, 12 十二, 20 二十, 105 一百零五,
    110 一百一十, 999 九百九十九."""
    hundreds, rest = divmod(_counter(n), 100)
    tens, units = divmod(rest, 10)
    said: list[str] = []
    if hundreds:
        said += [f"digit_{hundreds}", "bai"]
        if rest == 0:
            return said
        if tens == 0:
            return [*said, "digit_0", f"digit_{units}"]
    if tens:
        # Below a hundred, "十二" and not "一十二"; after 百 the 一 is said: 一百一十.
        if tens > 1 or hundreds:
            said.append(f"digit_{tens}")
        said.append("shi")
    if units or not said:
        said.append(f"digit_{units}")
    return said


def english_count(n: int) -> list[str]:
    """A counter number as English says it, in clips: 5 five, 12 twelve, 21 twenty one, 105 one
    hundred and five, 300 three hundred."""
    hundreds, rest = divmod(_counter(n), 100)
    said = [f"n_{hundreds}", "hundred"] if hundreds else []
    if rest and hundreds:
        said.append("and")
    if rest >= 20:
        tens, units = divmod(rest, 10)
        said.append(f"n_{tens * 10}")
        if units:
            said.append(f"n_{units}")
    elif rest:
        said.append(f"n_{rest}")
    return said


def call_clips(number: str, counter: int, locale: str) -> tuple[str, ...]:
    """The clips of a call in the order they are said. The ticket number is said letter by letter
    and digit by digit (A023 is "A 零 二 三", not "A 二十三"); the counter as a cardinal (12 十二).

    ``call_clips("A023", 12, "zh_CN")`` → 请 A 零 二 三 号 (pause) 到 十 二 号窗口办理."""
    letters, digits = _split(number)
    if locale == "zh_CN":
        said = [
            "please",
            *(f"letter_{c}" for c in letters),
            *(f"digit_{d}" for d in digits),
            "hao",
            PAUSE,
            "to",
            *mandarin_count(counter),
            "counter",
        ]
    elif locale == "en":
        said = [
            "number",
            *(f"letter_{c}" for c in letters),
            *(f"n_{d}" for d in digits),
            PAUSE,
            "go_to",
            *english_count(counter),
        ]
    else:
        raise ValueError(f"no spoken calls for locale {locale!r}; known: {', '.join(LOCALES)}")
    return tuple(said)

"""Spoken calls from the clips that ship with hall: what a call is made of, and that the committed
clips are all there, small, and joinable as one MP3 stream."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from displays.clips import CLIPS, LOCALES, PAUSE, call_clips, english_count, mandarin_count
from displays.voice import CLIPS_DIR, CallClips, VoiceUnavailable

ROOT = Path(__file__).resolve().parents[2]
# MPEG-2 layer III (what scripts/voice-clips writes): bit rates in kbit/s by index, sample rates.
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_MPEG2_RATES = (22050, 24000, 16000)


def mp3_frames(data: bytes) -> list[tuple[int, int, bool]]:
    """``(sample rate, kbit/s, mono)`` of each frame; ``AssertionError`` if the bytes are anything
    but back-to-back MPEG-2 layer III frames (no header, no junk between clips)."""
    frames = []
    at = 0
    while at < len(data):
        head = int.from_bytes(data[at : at + 4], "big")
        assert head >> 21 == 0x7FF, f"no frame sync at byte {at}"
        assert (head >> 19) & 3 == 2 and (head >> 17) & 3 == 1, f"not MPEG-2 layer III at byte {at}"
        kbps, rate = _MPEG2_KBPS[(head >> 12) & 15], _MPEG2_RATES[(head >> 10) & 3]
        padding = (head >> 9) & 1
        frames.append((rate, kbps, (head >> 6) & 3 == 3))
        at += 72 * kbps * 1000 // rate + padding
    assert at == len(data), "the last frame is cut"
    return frames


def test_a_mandarin_call_says_the_number_digit_by_digit_and_the_counter_as_a_cardinal() -> None:
    assert call_clips("A023", 12, "zh_CN") == (
        "please",
        "letter_A",
        "digit_0",
        "digit_2",
        "digit_3",
        "hao",
        PAUSE,
        "to",
        "shi",
        "digit_2",
        "counter",
    )
    assert call_clips("23", 5, "zh_CN")[:4] == ("please", "digit_2", "digit_3", "hao")


def test_an_english_call_names_each_letter_and_digit() -> None:
    assert call_clips("AB0101", 105, "en") == (
        "number",
        "letter_A",
        "letter_B",
        "n_0",
        "n_1",
        "n_0",
        "n_1",
        PAUSE,
        "go_to",
        "n_1",
        "hundred",
        "and",
        "n_5",
    )


@pytest.mark.parametrize(
    ("counter", "mandarin", "english"),
    [
        (1, "一", "one"),
        (10, "十", "ten"),
        (12, "十二", "twelve"),
        (20, "二十", "twenty"),
        (47, "四十七", "forty seven"),
        (100, "一百", "one hundred"),
        (105, "一百零五", "one hundred and five"),
        (110, "一百一十", "one hundred and ten"),
        (999, "九百九十九", "nine hundred and ninety nine"),
    ],
)
def test_counter_numbers_are_said_as_people_say_them(counter: int, mandarin: str, english: str) -> None:
    assert "".join(CLIPS["zh_CN"][name] for name in mandarin_count(counter)) == mandarin
    assert " ".join(CLIPS["en"][name] for name in english_count(counter)) == english


def test_what_is_not_a_call_is_refused() -> None:
    for number, counter, locale in [("a023", 5, "zh_CN"), ("A023", 0, "en"), ("A023", 1000, "en"), ("A1", 1, "fr")]:
        with pytest.raises(ValueError, match=r"ticket number|counter numbers|locale"):
            call_clips(number, counter, locale)
    with pytest.raises(ValueError, match="counter numbers"):
        call_clips("A1", True, "zh_CN")  # type: ignore[arg-type]


@given(
    number=st.from_regex(r"\A[A-Z]{0,2}[0-9]{1,6}\Z"),
    counter=st.integers(1, 999),
    locale=st.sampled_from(LOCALES),
)
def test_every_call_is_made_of_listed_clips(number: str, counter: int, locale: str) -> None:
    names = call_clips(number, counter, locale)
    assert set(names) <= {*CLIPS[locale], PAUSE}
    assert names.count(PAUSE) == 1


def test_the_committed_clips_are_the_listed_ones_and_small() -> None:
    # The script's own check: every clip present, made from the words displays/clips.py gives it.
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "voice-clips"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    files = sorted(CLIPS_DIR.rglob("*.mp3"))
    assert len(files) == sum(len(CLIPS[locale]) + 1 for locale in LOCALES)
    assert sum(f.stat().st_size for f in files) < 300_000
    for file in files:
        assert set(mp3_frames(file.read_bytes())) == {(16000, 24, True)}, file


async def test_a_call_is_its_clips_joined_in_order() -> None:
    data = await CallClips().call_mp3("B007", 12, "zh_CN")
    names = ["please", "letter_B", "digit_0", "digit_0", "digit_7", "hao", PAUSE, "to", "shi", "digit_2", "counter"]
    assert data == b"".join((CLIPS_DIR / "zh_CN" / f"{name}.mp3").read_bytes() for name in names)
    assert len(mp3_frames(data)) > 30  # a stream a decoder reads to its end


async def test_a_missing_clip_is_named(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "number.mp3").write_bytes((CLIPS_DIR / "en" / "number.mp3").read_bytes())
    with pytest.raises(VoiceUnavailable, match=r"missing in .*en: go_to, letter_A, n_1, n_5, pause"):
        await CallClips(tmp_path).call_mp3("A1", 5, "en")

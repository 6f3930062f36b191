"""Free-text speech with the real espeak-ng: WAV format, caching, limits, and how the words are read.
(Calls are spoken from clips without it: tests/displays/test_clips.py.)"""

from __future__ import annotations

import asyncio
import io
import subprocess
import wave
from pathlib import Path

import pytest

from displays.texts import VOICES, speech_text
from displays.voice import (
    MAX_TEXT,
    Voice,
    VoiceUnavailable,
    chime_wav,
    join_wavs,
    wav_format,
    wav_seconds,
)
from tests.peers import require_binary


@pytest.fixture
def espeak() -> str:
    return require_binary("espeak-ng")


def phonemes(espeak: str, text: str, voice: str) -> str:
    """What espeak-ng will pronounce, as its phoneme mnemonics: the nearest thing to listening."""
    done = subprocess.run([espeak, "-q", "-x", "-v", voice, text], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_mandarin_reads_the_number_digit_by_digit_and_names_the_letter(espeak: str) -> None:
    said = phonemes(espeak, speech_text("A023", 12, "zh_CN"), VOICES["zh_CN"])
    # ei4 ling2 er4 san1 hao4, dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3; no English fallback.
    assert "'ei51_| l'i35N_| '@r51_| s'a55n_| X'Au51_|" in said
    assert "s.i.35_|'@r51_| X'Au51_| ts.hw'A55N_|" in said
    assert "(en)" not in said
    # Digits left as digits would be read as a quantity: 零 二十三.
    assert "@r51s.i.35" in phonemes(espeak, "请 A023 号", VOICES["zh_CN"])


def test_english_names_every_letter_and_digit(espeak: str) -> None:
    said = phonemes(espeak, speech_text("A023", 5, "en"), VOICES["en"])
    assert "eI z'i@roU t'u: Tr'i:" in said
    assert "a#" not in said  # not the article "a"
    assert "f'aIv" in said
    two = phonemes(espeak, speech_text("NO101", 5, "en"), VOICES["en"])
    assert "'En'oU w'0n z'i@roU w'0n" in two  # N, O — not the word "no"


async def test_a_phrase_is_a_wav_of_espeaks_format(espeak: str, tmp_path: Path) -> None:
    voice = Voice(tmp_path, program=espeak)
    for locale in ("zh_CN", "en"):
        data = await voice.phrase_wav(speech_text("A023", 5, locale), VOICES[locale])
        assert wav_format(data) == (1, 2, 22050)
        assert 0.5 < wav_seconds(data) < 10
    assert voice.runs == 2


async def test_the_cache_answers_without_running_espeak_again(espeak: str, tmp_path: Path) -> None:
    voice = Voice(tmp_path / "voice", program=espeak, memory_items=1)
    first = await voice.phrase_wav("请 A 零 二 三 号", "cmn-latn-pinyin")
    assert voice.runs == 1
    assert await voice.phrase_wav(" 请 A 零 二 三 号 ", "cmn-latn-pinyin") == first
    assert voice.runs == 1
    stored = tmp_path / "voice" / f"{Voice.key('请 A 零 二 三 号', 'cmn-latn-pinyin')}.wav"
    assert stored.read_bytes() == first
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temporary file left

    # Another process (a fresh Voice) finds it on disk.
    again = Voice(tmp_path / "voice", program=espeak)
    assert await again.phrase_wav("请 A 零 二 三 号", "cmn-latn-pinyin") == first
    assert again.runs == 0

    # The memory keeps one phrase; once pushed out and gone from disk, it is made again.
    await voice.phrase_wav("Number A0 2 3", "en")
    assert voice.runs == 2
    stored.unlink()
    assert await voice.phrase_wav("请 A 零 二 三 号", "cmn-latn-pinyin") == first
    assert voice.runs == 3


async def test_a_damaged_cache_file_is_made_again(espeak: str, tmp_path: Path) -> None:
    (tmp_path / f"{Voice.key('hello', 'en')}.wav").write_bytes(b"RIFF broken")
    voice = Voice(tmp_path, program=espeak)
    assert wav_format(await voice.phrase_wav("hello", "en")) == (1, 2, 22050)
    assert voice.runs == 1


async def test_the_chime_joins_the_speech(espeak: str, tmp_path: Path) -> None:
    chime = chime_wav()
    assert 0.85 < wav_seconds(chime) < 0.95
    voice = Voice(tmp_path, program=espeak)
    speech = await voice.phrase_wav("请 A 零 二 三 号", VOICES["zh_CN"])
    assert wav_format(chime) == wav_format(speech)
    joined = join_wavs(chime, join_wavs(speech, speech, gap=0.5), gap=0.2)
    assert wav_format(joined) == (1, 2, 22050)
    assert wav_seconds(joined) == pytest.approx(wav_seconds(chime) + 0.2 + 2 * wav_seconds(speech) + 0.5, abs=0.001)
    assert voice.runs == 1


def test_only_one_format_joins() -> None:
    chime = chime_wav()
    assert wav_seconds(join_wavs(chime, chime, gap=0.1)) == pytest.approx(1.9, abs=0.001)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(b"\0\0" * 1600)
    with pytest.raises(ValueError, match=r"part 1 is \(1, 2, 16000\)"):
        join_wavs(chime, out.getvalue())
    with pytest.raises(ValueError, match="not a PCM WAV"):
        join_wavs(chime, b"RIFF....WAVEfmt ")
    with pytest.raises(ValueError, match="nothing"):
        join_wavs()


async def test_bad_phrases_are_refused_before_anything_runs(tmp_path: Path) -> None:
    voice = Voice(tmp_path, program="false")
    with pytest.raises(ValueError, match=f"at most {MAX_TEXT}"):
        await voice.phrase_wav("号" * (MAX_TEXT + 1), "cmn-latn-pinyin")
    with pytest.raises(ValueError, match="nothing to say"):
        await voice.phrase_wav(" \n ", "en")
    with pytest.raises(ValueError, match="voice name"):
        await voice.phrase_wav("hello", "-w/tmp/x")
    assert voice.runs == 0


async def test_a_missing_or_failing_espeak_is_a_clear_error(espeak: str, tmp_path: Path) -> None:
    with pytest.raises(VoiceUnavailable, match="not installed"):
        await Voice(tmp_path, program="no-such-espeak-ng").phrase_wav("hello", "en")
    with pytest.raises(VoiceUnavailable, match="voice does not exist"):
        await Voice(tmp_path, program=espeak).phrase_wav("hello", "zz")
    slow = script(tmp_path, "slow", "exec sleep 30")
    with pytest.raises(VoiceUnavailable, match="longer than"):
        await Voice(tmp_path, program=slow, timeout=0.3).phrase_wav("hello", "en")
    assert [p.suffix for p in tmp_path.iterdir()] == [""]  # only the script: no temporary files


async def test_a_flood_of_calls_runs_a_bounded_number_of_espeaks(espeak: str, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    wrapper = script(
        tmp_path,
        "espeak",
        f'echo "start $(date +%s%N)" >> {log}\nsleep 0.2\n{espeak} "$@"\nrc=$?\n'
        f'echo "end $(date +%s%N)" >> {log}\nexit $rc',
    )
    voice = Voice(tmp_path / "cache", program=wrapper, concurrency=2)
    # Nine different calls, and one of them pressed three times at once: nine phrases, nine runs.
    numbers = ["A001", "A001", *(f"A{n:03d}" for n in range(1, 10)), "A001"]
    wavs = await asyncio.gather(*(voice.phrase_wav(speech_text(n, 3, "en"), "en") for n in numbers))
    assert wavs[0] == wavs[1] == wavs[2] == wavs[-1]
    assert voice.runs == 9
    marks = sorted((int(t), kind == "start") for kind, t in (line.split() for line in log.read_text().splitlines()))
    running = peak = 0
    for _, start in marks:
        running += 1 if start else -1
        peak = max(peak, running)
    assert peak == 2

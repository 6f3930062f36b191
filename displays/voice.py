"""Voice calls: calls joined from pre-rendered clips, free text from espeak-ng, a two-tone chime,
and WAV joining.

A call ("请 A 零 二 三 号，到 5 号窗口办理") is the clips displays/clips.py lists, joined in order:
MP3 files of bare frames (no header), so joining them is concatenating their bytes and one
answer carries the whole call. The clips ship with hall (``displays/voice_clips``, made by
``scripts/voice-clips``), so every server speaks calls, with or without espeak-ng.

Free text runs espeak-ng as a subprocess (no shell; the text goes in on stdin, so nothing in it can
be taken for an option). Results are cached on disk, keyed by the SHA-256 of voice and text and
written atomically (temporary file, then rename), and in a small in-memory LRU: a hall says the
same few phrases all day. A semaphore bounds the number of espeak-ng processes, so a flood of
requests queues instead of forking without limit.

espeak-ng writes 16-bit mono PCM at 22050 Hz; the chime is made in the same format so the pieces
join without resampling.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import math
import os
import re
import shutil
import struct
import tempfile
import wave
import weakref
from collections import OrderedDict
from functools import cache
from pathlib import Path

from displays.clips import LOCALES, call_clips
from hall.kernel.errors import HallError

RATE = 22050
WIDTH = 2  # bytes per sample
CHANNELS = 1
MAX_TEXT = 200

_VOICE_NAME = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")


CLIPS_DIR = Path(__file__).parent / "voice_clips"


class VoiceUnavailable(HallError):
    """espeak-ng is missing, failed, or took too long, or a call's clip is missing; the display
    shows the call without sound and says so."""


class CallClips:
    """Spoken calls from the clips in ``folder`` (``<locale>/<name>.mp3``), read once per locale.

    ``call_mp3`` answers the call as one MP3; ``VoiceUnavailable`` names a missing clip (an
    installation without the clip files, or a clip list changed without running the script)."""

    def __init__(self, folder: Path | str = CLIPS_DIR) -> None:
        self.folder = Path(folder)
        self._loaded: dict[str, dict[str, bytes]] = {}

    def _load(self, locale: str) -> dict[str, bytes]:
        return {path.stem: path.read_bytes() for path in sorted((self.folder / locale).glob("*.mp3"))}

    async def clips(self, locale: str) -> dict[str, bytes]:
        if locale not in LOCALES:
            raise ValueError(f"no spoken calls for locale {locale!r}; known: {', '.join(LOCALES)}")
        found = self._loaded.get(locale)
        if found is None:
            found = self._loaded[locale] = await asyncio.to_thread(self._load, locale)
        return found

    async def call_mp3(self, number: str, counter: int, locale: str) -> bytes:
        """The call for ticket ``number`` to ``counter`` in ``locale`` (``zh_CN`` or ``en``);
        ``ValueError`` for a number, counter or locale that is not one."""
        names = call_clips(number, counter, locale)
        clips = await self.clips(locale)
        missing = sorted({name for name in names if name not in clips})
        if missing:
            raise VoiceUnavailable(
                f"voice clips missing in {self.folder / locale}: {', '.join(missing)} (scripts/voice-clips makes them)"
            )
        return b"".join(clips[name] for name in names)


def wav_format(data: bytes) -> tuple[int, int, int]:
    """``(channels, bytes per sample, frames per second)`` of a WAV file; ``ValueError`` if it is none."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            return reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a PCM WAV file: {exc}") from exc


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getnframes() / reader.getframerate()


def _frames(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.readframes(reader.getnframes())


def _wav(frames: bytes, rate: int = RATE) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(CHANNELS)
        writer.setsampwidth(WIDTH)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return out.getvalue()


def join_wavs(*parts: bytes, gap: float = 0.0) -> bytes:
    """One WAV of ``parts`` in order with ``gap`` seconds of silence between them. All must share
    one format (nothing is resampled); ``ValueError`` names the odd one."""
    if not parts:
        raise ValueError("nothing to join")
    first = wav_format(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        if (found := wav_format(part)) != first:
            raise ValueError(f"part {index} is {found} (channels, width, rate), part 0 is {first}")
    channels, width, rate = first
    silence = b"\0" * (round(gap * rate) * channels * width)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(silence.join(_frames(p) for p in parts))
    return out.getvalue()


def _tone(freq: float, seconds: float, *, amplitude: float, attack: float = 0.01, release: float = 0.05) -> list[int]:
    """A bell-like tone: sine with a soft octave overtone, quick fade in, exponential decay, fade out."""
    n = round(seconds * RATE)
    samples = []
    for i in range(n):
        t = i / RATE
        envelope = min(1.0, t / attack) * math.exp(-3.0 * t / seconds) * min(1.0, (n - i) / (release * RATE))
        value = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
        samples.append(round(32767 * amplitude * envelope * value / 1.25))
    return samples


@cache
def chime_wav() -> bytes:
    """A two-tone "ding-dong" (660 Hz, then 550 Hz; 0.9 s), in espeak-ng's format."""
    samples = _tone(660.0, 0.45, amplitude=0.6) + _tone(550.0, 0.45, amplitude=0.6)
    return _wav(struct.pack(f"<{len(samples)}h", *samples))


def _check_voice(voice: str) -> None:
    if not _VOICE_NAME.fullmatch(voice):
        raise ValueError(f"not an espeak-ng voice name: {voice!r}")


class Voice:
    """Speech of free text from espeak-ng, cached in ``cache_dir`` and in memory. Calls do not need
    it: they are spoken from clips (``CallClips``).

    ``runs`` counts the espeak-ng processes started (the cache's hit rate is visible from it).
    """

    def __init__(
        self,
        cache_dir: Path | str,
        *,
        program: str = "espeak-ng",
        concurrency: int = 2,
        memory_items: int = 32,
        max_text: int = MAX_TEXT,
        timeout: float = 20.0,
    ) -> None:
        if concurrency < 1 or memory_items < 0 or max_text < 1:
            raise ValueError("concurrency and max_text must be at least 1, memory_items at least 0")
        self.cache_dir = Path(cache_dir)
        self.program = program
        self.max_text = max_text
        self.timeout = timeout
        self.runs = 0
        self._limit = asyncio.Semaphore(concurrency)
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_items = memory_items
        # Locks of phrases being made; an entry lives while some task holds it.
        self._making: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @staticmethod
    def key(text: str, voice: str) -> str:
        return hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()

    def _remember(self, key: str, data: bytes) -> None:
        self._memory[key] = data
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)

    def _recall(self, key: str) -> bytes | None:
        data = self._memory.get(key)
        if data is not None:
            self._memory.move_to_end(key)
        return data

    def _path(self, key: str) -> Path:
        return self.cache_dir / f"{key}.wav"

    def _read_disk(self, key: str) -> bytes | None:
        try:
            data = self._path(key).read_bytes()
            wav_format(data)
        except (FileNotFoundError, ValueError):
            return None
        return data

    async def _cached(self, key: str) -> bytes | None:
        data = self._recall(key)
        if data is None:
            data = await asyncio.to_thread(self._read_disk, key)
            if data is not None:
                self._remember(key, data)
        return data

    async def phrase_wav(self, text: str, voice: str) -> bytes:
        """``text`` spoken by espeak-ng ``voice`` as a WAV file (16-bit mono, 22050 Hz).

        ``ValueError`` for an empty or over-long text or a bad voice name; ``VoiceUnavailable``
        when espeak-ng is missing or fails."""
        if len(text) > self.max_text:
            raise ValueError(f"a phrase is at most {self.max_text} characters, this one has {len(text)}")
        text = " ".join(text.split())
        if not text:
            raise ValueError("nothing to say")
        _check_voice(voice)
        key = self.key(text, voice)
        if (data := await self._cached(key)) is not None:
            return data
        # One run per phrase: a recall pressed five times waits for the first run, then reads it.
        lock = self._making.get(key)
        if lock is None:
            lock = self._making[key] = asyncio.Lock()
        async with lock:
            if (data := await self._cached(key)) is not None:
                return data
            async with self._limit:
                data = await self._synthesize(text, voice, key)
            self._remember(key, data)
        return data

    async def _synthesize(self, text: str, voice: str, key: str) -> bytes:
        program = shutil.which(self.program)
        if program is None:
            raise VoiceUnavailable(f"{self.program} is not installed (Debian package espeak-ng)")
        await asyncio.to_thread(self.cache_dir.mkdir, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=self.cache_dir)
        os.close(handle)
        try:
            self.runs += 1
            try:
                process = await asyncio.create_subprocess_exec(
                    program,
                    "-v",
                    voice,
                    "-w",
                    temporary,
                    "--stdin",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise VoiceUnavailable(f"cannot run {self.program}: {exc}") from exc
            try:
                async with asyncio.timeout(self.timeout):
                    _, errors = await process.communicate(text.encode())
            except TimeoutError:
                raise VoiceUnavailable(f"{self.program} took longer than {self.timeout} s") from None
            finally:
                # Timed out or cancelled: no orphan keeps running.
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            if process.returncode != 0:
                message = errors.decode(errors="replace").strip()
                raise VoiceUnavailable(f"{self.program} exited with {process.returncode}: {message}")
            data = await asyncio.to_thread(Path(temporary).read_bytes)
            try:
                found = wav_format(data)
            except ValueError as exc:
                raise VoiceUnavailable(f"{self.program} wrote no usable WAV: {exc}") from exc
            if found != (CHANNELS, WIDTH, RATE):
                raise VoiceUnavailable(f"{self.program} wrote {found} (channels, width, rate), not (1, 2, {RATE})")
            await asyncio.to_thread(os.replace, temporary, self._path(key))
            return data
        finally:
            await asyncio.to_thread(_discard, temporary)


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)

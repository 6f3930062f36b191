"""Voice calls over HTTP: a call is spoken from the clips that ship with hall, espeak-ng or not;
only calls can be spoken; missing clips are a clear 503."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from displays.clips import call_clips
from displays.voice import CLIPS_DIR, CallClips
from tests.displays.test_clips import mp3_frames
from tests.site import Site


@pytest.fixture
def no_espeak(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A server as `pip install` leaves it: no espeak-ng on the PATH, nor found by any lookup."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if "espeak" in name else real_which(name, *a, **k))
    assert shutil.which("espeak-ng") is None


def test_a_call_is_spoken_without_espeak(site: Site, no_espeak: None) -> None:
    for lang, number, counter in (("zh_CN", "A023", 5), ("en", "AB101", 12)):
        answer = site.client.get("/voice/call.mp3", params={"number": number, "counter": counter, "lang": lang})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "audio/mpeg"
        names = call_clips(number, counter, lang)
        assert answer.content == b"".join((CLIPS_DIR / lang / f"{name}.mp3").read_bytes() for name in names)
        seconds = len(mp3_frames(answer.content)) * 576 / 16000
        assert 1.5 < seconds < 8, seconds
    # Chinese is the default; the chime needs nothing either.
    chinese = site.client.get("/voice/call.mp3", params={"number": "A023", "counter": "5"})
    assert chinese.content.startswith((CLIPS_DIR / "zh_CN" / "please.mp3").read_bytes())
    chime = site.client.get("/voice/chime.wav")
    assert chime.status_code == 200 and chime.headers["content-type"] == "audio/wav"


def test_only_calls_can_be_spoken(site: Site) -> None:
    for params in (
        {"number": "你好世界", "counter": "5"},
        {"number": "A023", "counter": "0"},
        {"number": "A023", "counter": "1000"},
        {"number": "A023", "counter": "x"},
        {"number": "A023", "counter": "5", "lang": "fr"},
        {"number": "-rf", "counter": "5"},
    ):
        assert site.client.get("/voice/call.mp3", params=params).status_code == 422, params


def test_an_installation_without_its_clips_says_so(site: Site, tmp_path: Path) -> None:
    site.client.app.state.hall.calls = CallClips(tmp_path / "nowhere")
    answer = site.client.get("/voice/call.mp3", params={"number": "B001", "counter": "2"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "voice_unavailable"
    assert "scripts/voice-clips" in answer.json()["message"]

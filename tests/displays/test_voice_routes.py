"""Voice calls over HTTP: only calls can be spoken, and a missing espeak-ng is a clear 503."""

from __future__ import annotations

import io
import wave

from tests.peers import require_binary
from tests.site import Site


def test_the_chime_and_a_call_come_as_wav(site: Site) -> None:
    require_binary("espeak-ng")
    chime = site.client.get("/voice/chime.wav")
    assert chime.headers["content-type"] == "audio/wav"
    call = site.client.get("/voice/call.wav", params={"number": "A023", "counter": "5", "lang": "zh_CN"})
    assert call.status_code == 200, call.text
    with wave.open(io.BytesIO(call.content)) as speech, wave.open(io.BytesIO(chime.content)) as tone:
        assert speech.getframerate() == tone.getframerate()
        assert speech.getnframes() / speech.getframerate() > 0.5


def test_only_calls_can_be_spoken(site: Site) -> None:
    for params in (
        {"number": "你好世界", "counter": "5"},
        {"number": "A023", "counter": "0"},
        {"number": "A023", "counter": "x"},
        {"number": "A023", "counter": "5", "lang": "fr"},
        {"number": "-rf", "counter": "5"},
    ):
        assert site.client.get("/voice/call.wav", params=params).status_code == 422, params


def test_a_server_without_speech_says_so(site: Site) -> None:
    site.client.app.state.hall.voice.program = "/nonexistent/espeak-ng"
    answer = site.client.get("/voice/call.wav", params={"number": "B001", "counter": "2"})
    assert answer.status_code == 503
    assert answer.json()["error"] == "voice_unavailable"

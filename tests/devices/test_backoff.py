"""The server's reconnect backoff, as a schedule: quick at first, never longer than a few
seconds, and spread by jitter, so a restarted broker is rejoined well within the half minute
devices resend an unanswered event for."""

from __future__ import annotations

import pytest

from devices.bus import BACKOFF_CAP, reconnect_delay


def test_the_wait_doubles_from_a_fifth_of_a_second_to_its_cap() -> None:
    assert [reconnect_delay(n, rand=lambda: 0.0) for n in range(7)] == [0.2, 0.4, 0.8, 1.6, 2.5, 2.5, 2.5]


def test_jitter_only_shortens_a_wait_by_up_to_half() -> None:
    assert [reconnect_delay(n, rand=lambda: 1.0) for n in range(5)] == [0.1, 0.2, 0.4, 0.8, 1.25]
    assert all(BACKOFF_CAP / 2 <= reconnect_delay(n) <= BACKOFF_CAP for n in range(4, 60))


def test_a_broker_away_for_long_is_tried_again_every_few_seconds() -> None:
    assert BACKOFF_CAP <= 3
    assert reconnect_delay(10_000) <= BACKOFF_CAP
    # A minute of outage still means a try at least every cap: ~24 tries, not 5.
    waited, tries = 0.0, 0
    while waited < 60:
        waited += reconnect_delay(tries, rand=lambda: 0.0)
        tries += 1
    assert tries >= 24


@pytest.mark.parametrize(
    "arguments", [{"attempt": -1}, {"attempt": 0, "first": 0}, {"attempt": 0, "cap": 0.1}, {"attempt": 0, "jitter": 1}]
)
def test_a_schedule_that_makes_no_sense_is_refused(arguments: dict[str, float]) -> None:
    attempt = int(arguments.pop("attempt"))
    with pytest.raises(ValueError, match="jitter"):
        reconnect_delay(attempt, **arguments)

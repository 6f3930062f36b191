"""A case's text messages: what each says, in Chinese and in English, and the id it is sent under."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cases.notices import NoticeKind, notice_id, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
NUMBER = "XH20261203000017"
LINK = "https://hall.example.cn/c/XH20261203000017"
# 17:00 in Shanghai: a promised case is due at closing time.
DUE = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _text(kind: NoticeKind, locale: str, due: datetime | None = DUE) -> str:
    item = "Real estate registration" if locale == "en" else "不动产登记"
    hall = "Xihu District Government Service Center" if locale == "en" else "西湖区政务服务中心"
    return render(kind, locale, number=NUMBER, item=item, hall=hall, due=due, link=LINK, tz=SHANGHAI)


def test_the_intake_confirmation_gives_the_number_item_due_date_and_tracking_link() -> None:
    text = _text(NoticeKind.ACCEPTED, "zh_CN")
    assert text.startswith("【政务服务】")
    for part in (NUMBER, "不动产登记", "已受理", "2026年12月3日 17:00", LINK):
        assert part in text
    english = _text(NoticeKind.ACCEPTED, "en")
    for part in (NUMBER, "Real estate registration", "accepted", "Dec 3, 2026, 17:00", LINK):
        assert part in english


def test_the_due_date_is_shown_on_the_halls_clock() -> None:
    urumqi = render(
        NoticeKind.ACCEPTED, "zh_CN", number=NUMBER, item="x", hall="x", due=DUE, link=LINK, tz=ZoneInfo("Asia/Urumqi")
    )
    assert "2026年12月3日 15:00" in urumqi


def test_the_midway_reminder_says_the_case_is_in_progress_and_repeats_the_due_date() -> None:
    text = _text(NoticeKind.MIDWAY, "zh_CN")
    for part in (NUMBER, "不动产登记", "正在办理中", "2026年12月3日 17:00", LINK):
        assert part in text
    english = _text(NoticeKind.MIDWAY, "en")
    for part in (NUMBER, "in progress", "Dec 3, 2026, 17:00", LINK):
        assert part in english


def test_ready_for_collection_names_the_hall_to_collect_at() -> None:
    text = _text(NoticeKind.READY, "zh_CN")
    for part in (NUMBER, "不动产登记", "已办结", "西湖区政务服务中心", "身份证件", LINK):
        assert part in text
    english = _text(NoticeKind.READY, "en")
    for part in (NUMBER, "complete", "Xihu District Government Service Center", LINK):
        assert part in english


def test_the_rating_invitation_links_to_the_tracking_page() -> None:
    text = _text(NoticeKind.RATE, "zh_CN")
    for part in (NUMBER, "评价", LINK):
        assert part in text
    assert "rate our service" in _text(NoticeKind.RATE, "en")


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("due", [DUE, None])
def test_every_text_is_in_chinese_and_short(kind: NoticeKind, due: datetime | None) -> None:
    text = _text(kind, "zh_CN", due)
    assert "Government" not in text
    assert "{" not in text
    assert "None" not in text
    assert NUMBER in text and LINK in text
    # Beside the link, two SMS segments (67 characters each when a message is split) at most.
    assert len(text.replace(LINK, "")) <= 2 * 67


def test_without_a_promised_date_no_date_is_promised() -> None:
    text = _text(NoticeKind.ACCEPTED, "zh_CN", None)
    assert "承诺" not in text
    assert "已受理" in text
    assert "due" not in _text(NoticeKind.MIDWAY, "en", None)


def test_the_locale_is_chosen_like_a_pages_so_an_unknown_one_gets_chinese() -> None:
    assert _text(NoticeKind.ACCEPTED, "zh-CN") == _text(NoticeKind.ACCEPTED, "zh_CN")
    assert _text(NoticeKind.ACCEPTED, "fr") == _text(NoticeKind.ACCEPTED, "zh_CN")


def test_a_due_date_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _text(NoticeKind.ACCEPTED, "zh_CN", datetime(2026, 12, 3, 17, 0))


def test_a_message_id_is_the_case_number_and_the_kind_so_a_message_is_due_once() -> None:
    assert notice_id(NUMBER, NoticeKind.ACCEPTED) == f"{NUMBER}:accepted"
    assert notice_id(NUMBER, NoticeKind.ACCEPTED) == notice_id(NUMBER, NoticeKind.ACCEPTED)
    ids = {notice_id(NUMBER, kind) for kind in NoticeKind}
    assert len(ids) == len(NoticeKind)
    assert notice_id("OTHER1", NoticeKind.ACCEPTED) not in ids
    assert all(len(i) <= 80 for i in ids)


def test_a_message_id_fits_the_outbox_or_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        notice_id("X" * 80, NoticeKind.ACCEPTED)

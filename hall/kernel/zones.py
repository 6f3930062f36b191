"""The hall's time zone: one setting, ``HALL_TIMEZONE`` (``hall.settings.Settings.timezone``), that
every part uses for what is local: a service's opening hours and the ticket day (queueing), working
days and deadlines (cases), ledgers' periods, the times on pages and on printed tickets.

The rules are pure and take the zone as a value; the runtime hands the setting to each of them.
``DEFAULT_ZONE`` is the one default, for a rule or a test built without a server.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


@cache
def zone(name: str = DEFAULT_ZONE) -> ZoneInfo:
    """The zone named ``name`` (IANA), or ``ZoneInfoNotFoundError`` / ``ValueError``."""
    return ZoneInfo(name)

"""Every table of hall on one ``MetaData``: the core's and each part's."""

from __future__ import annotations

import hall.storage.alarm_tables
import hall.storage.case_tables
import hall.storage.device_tables
import hall.storage.queue_tables  # noqa: F401 - registers the queue's tables
from hall.storage.tables import metadata

__all__ = ["metadata"]

"""Every table of hall on one ``MetaData``: the core's and each part's."""

from __future__ import annotations

import cases.store_tables  # noqa: F401 - registers the case register's tables
import devices.store_tables  # noqa: F401 - registers the device registry's tables
import queueing.store_tables  # noqa: F401 - registers the queue's tables
from hall.tables import metadata

__all__ = ["metadata"]

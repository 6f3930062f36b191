"""The gateway's tallies: the messages received, the ones rejected as faults (counted per device
and reason, and logged at most once a minute per device and reason) and the well-formed events
refused for what the hall is doing (counted per device and code, logged at debug only: a hall
refuses such presses all day).

Apart from the gateway because every part of the device path counts into them (the message
checks, the event path, the PC/SC readers), and the device console reads them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# The gateway's log, under the name it has always had: operators filter by it, and the demo's
# test reads the rejections it logs there.
log = logging.getLogger("devices.gateway")


@dataclass
class GatewayStats:
    received: Counter[str] = field(default_factory=Counter)
    rejected: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # Well-formed events refused for what the hall is doing, by device and code.
    refused: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    events_done: int = 0
    events_failed: int = 0
    late_acks: int = 0
    replies_dropped: int = 0
    _last_logged: dict[tuple[str, str], float] = field(default_factory=dict, repr=False, compare=False)

    def reject_total(self) -> int:
        return sum(sum(c.values()) for c in self.rejected.values())

    def reject(self, who: str, reason: str, detail: str) -> None:
        self.rejected[who][reason] += 1
        key = (who, reason)
        now = time.monotonic()
        if now - self._last_logged.get(key, -1e9) >= 60:
            self._last_logged[key] = now
            log.warning("device %s: %s (%s)", who, reason, detail)

    def refuse(self, who: str, code: str, detail: str) -> None:
        self.refused[who][code] += 1
        log.debug("device %s: refused %s (%s)", who, code, detail)

"""A notification sender in a process of its own, for tests that kill it: ``python -m tests.notifyproc``.

``--pause`` holds each message after the log file took it and before ``sent`` is committed: the
window a kill must land in to test that a message is sent exactly once across restarts.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from cases.notify import Gateway, LogFileGateway, Sender
from hall.storage.database import create_engine


class PausingGateway:
    def __init__(self, inner: Gateway, pause: float) -> None:
        self.inner = inner
        self.pause = pause

    async def send(self, message_id: str, phone: str, text: str) -> str:
        ref = await self.inner.send(message_id, phone, text)
        await asyncio.sleep(self.pause)
        return ref

    async def aclose(self) -> None:
        await self.inner.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--backoff", type=float, default=0.1)
    args = parser.parse_args()
    engine = create_engine(args.db)
    gateway = PausingGateway(LogFileGateway(args.log), args.pause)
    sender = Sender(engine, gateway, backoff=lambda attempt: timedelta(seconds=args.backoff))
    try:
        await sender.run(interval=0.05)
    finally:
        await gateway.aclose()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

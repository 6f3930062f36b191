"""How a virtual device's session ends: its tasks cancelled until they are really gone, and its
broker connection cut the way a power cut cuts it, so that the broker sends the Last Will.

Kept apart from devices/virtual.py because both work around the MQTT client (aiomqtt and paho)
rather than speak the protocol; the simulated hall uses ``cancel_all`` for its people too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import aiomqtt

from devices.bus import Link, MqttLink


async def cancel_all(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        while not task.done():
            # aiomqtt's publish awaits asyncio.wait_for, which on Python 3.11 swallows a
            # cancellation that arrives just as the publish completes; the task would then sleep
            # on through a whole heartbeat. So cancel until it is really gone.
            await asyncio.wait([task], timeout=0.05)
            task.cancel()
        if not task.cancelled():
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError, OSError):
                task.result()


def drop_connection(link: Link) -> bool:
    """Cut a real broker connection without a DISCONNECT, as a power cut does; False if the link
    is not a socket to a broker.

    aiomqtt always says goodbye on the way out of its context, which suppresses the Will, so the
    socket is shut down under it instead. Shut down, not closed: the file descriptor stays valid
    for the event loop's selector, the next read sees the end of the stream, and paho reports a
    lost connection that aiomqtt tears down properly.
    """
    if not isinstance(link, MqttLink):
        return False
    sock = link._client._client.socket()
    if not isinstance(sock, socket.socket):
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True

"""The names the gateway gives on the bus and to the writer: the topic filters it subscribes to,
and the ids of the commands a device's event and a kiosk's print become.

Apart from the gateway because they are pure and fixed: every server process must give the same
names, whichever of them takes a message, so that the broker shares the messages out and the
writer and the devices act on each id once.
"""

from __future__ import annotations

import hashlib

SUBSCRIPTIONS = ("hall/+/dev/+/state", "hall/+/dev/+/tele", "hall/+/dev/+/evt", "hall/+/dev/+/ack")
# The MQTT 5 share group of a district's server processes (MQTT 5 §4.8.2): the broker hands each
# message of a shared filter to one member of the group.
SHARE_GROUP = "hall"


def subscriptions(shared: bool) -> tuple[str, ...]:
    """What the server subscribes to. Alone, every device topic. Among several processes, what a
    device says (state, telemetry, events) through the share group, so each message is acted on by
    one process; acks plainly, so the process that sent the command, and only it, takes its ack
    (the others hear it and let it be)."""
    if not shared:
        return SUBSCRIPTIONS
    said = tuple(f"$share/{SHARE_GROUP}/{item}" for item in SUBSCRIPTIONS if not item.endswith("/ack"))
    return (*said, "hall/+/dev/+/ack")


def event_command_id(device_id: str, event_id: str) -> str:
    """The id of the command a device's event becomes: the same for every resend of the event,
    whichever server process takes it, so the writer acts on it once."""
    return f"dev:{device_id}:{event_id}"


def print_command_id(device_id: str, ticket: str) -> str:
    """The id of the command that prints a ticket at a kiosk: one per ticket and kiosk, whichever
    process sends it and however often, so the kiosk prints it once (docs/protocols/mqtt.md: a
    device carries out a command id once)."""
    return "print-" + hashlib.sha256(f"{device_id}:{ticket}".encode()).hexdigest()[:32]

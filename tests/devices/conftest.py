"""Fixtures of the device tests: a real Mosquitto as a hall runs it, and an open one for simulators."""

from tests.brokers import broker, open_broker  # noqa: F401

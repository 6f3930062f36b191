"""Tickets, services, counters, calling rules and wait estimates: a pure state machine.

Nothing here awaits, touches the database or reads the clock; ``store.py`` is the adapter.
"""

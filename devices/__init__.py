"""Device registry and drivers: MQTT, serial, PC/SC and the hall simulator."""

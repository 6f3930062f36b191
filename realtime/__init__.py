"""The websocket hub: topics, snapshots and ordered deltas, resume after reconnect, fan-out."""

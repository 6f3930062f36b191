"""Rebuilding the summary figures from the event log (``hall figures rebuild``): the adapters that
read a hall's log, recount it with the parts' pure rules (``queueing.recount``, ``cases.recount``)
and write the figures day by day. They are storage work of the whole application, not rules of a
part, so they live here, beside the command that runs them."""

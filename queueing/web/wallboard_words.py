"""The wallboard's word book for its script: a sentence for each event its 最新动态 list follows,
and the words of its alarms, rating levels and work order buttons. Apart from the pages because it
is only words, checked against the events the wallboard follows (tests/queueing/test_wallboard.py),
and the counter console borrows it for a supervisor's work orders."""

from __future__ import annotations

from cases.light_words import light_script_words
from hall.kernel.i18n import N_, _
from queueing.live import WALLBOARD_EVENTS

# Each event the wallboard follows (queueing.live.WALLBOARD_EVENTS), as the sentence its 最新动态
# list writes: {number} is the ticket's or the case's, {counter} the counter's number, {clerk} the
# clerk's name, {service} the service's, {label} a rating's level, {light} a light's word with what
# it is for (the case's deadline or its stage's), {due} a
# due day or time in the hall's time zone (static/js/wallboardview.js fills them in).
WALLBOARD_SENTENCES = {
    "counter.opened": N_("Counter {counter} opened by {clerk}"),
    "counter.paused": N_("Counter {counter} paused: {reason}"),
    "counter.resumed": N_("Counter {counter} serving again"),
    "counter.closed": N_("Counter {counter} closed"),
    "ticket.issued": N_("Ticket {number} taken for {service}"),
    "ticket.called": N_("{number} called to counter {counter}"),
    "ticket.recalled": N_("{number} called again to counter {counter}"),
    "ticket.started": N_("Counter {counter} serving {number}"),
    "ticket.finished": N_("Counter {counter} finished {number}"),
    "ticket.transferred": N_("{number} transferred to {service}"),
    "ticket.no_show": N_("{number} did not come to counter {counter}"),
    "ticket.requeued": N_("{number} back in the line"),
    "ticket.held": N_("{number} held for counter {counter}"),
    "ticket.released": N_("{number} back from hold"),
    "ticket.cancelled": N_("Ticket {number} cancelled"),
    "ticket.closed": N_("Ticket {number} closed at the end of the day"),
    "rating.given": N_("{number} rated counter {counter}: {label}"),
    "rating.alarm": N_("Unsatisfied rating: {number} at counter {counter} ({label}), work order opened"),
    "workorder.called_back": N_("Work order of {number}: resident called back"),
    "workorder.resolved": N_("Work order of {number} fixed and closed"),
    "workorder.overdue": N_("Work order of {number} overdue (due {due}), escalated"),
    "case.accepted": N_("Case {number} accepted"),
    "case.reviewed": N_("Case {number} passed review"),
    "case.approved": N_("Case {number} approved"),
    "case.completed": N_("Case {number} completed"),
    "case.collected": N_("Case {number}: result handed over"),
    "case.refused": N_("Case {number} refused"),
    "case.supplement_requested": N_("Case {number}: supplement requested"),
    "case.supplement_received": N_("Case {number}: supplement received"),
    "case.returned": N_("Case {number} returned to the previous stage"),
    "case.assigned": N_("Case {number} assigned"),
    "case.light": N_("Case {number}: light turned {light}"),
    "case.midway": N_("Case {number} is halfway to its deadline"),
    "case.rated": N_("Case {number} rated: {label}"),
    "supervision.opened": N_("Supervision order on case {number}, answer by {due}"),
    "supervision.answered": N_("Supervision order on case {number} answered"),
    "supervision.reminder": N_("Reminder: supervision order on case {number} due {due}"),
    "supervision.yellow_card": N_("Yellow card: supervision order on case {number} not answered in time"),
    "supervision.red_card": N_("Red card: supervision order on case {number} still not fixed"),
    "alarm.raised": N_("Alarm: {alarm}"),
    "alarm.acknowledged": N_("Alarm acknowledged by {by}: {alarm}"),
    "alarm.cleared": N_("Alarm cleared by itself: {alarm}"),
}
_WALLBOARD_WORDS = {
    "ev_other": N_("Event {type}"),
    # Each kind of alarm (queueing.alarms), filled from its data by wallboardview.js alarmText.
    "alarm_wait_over_target": N_(
        "{service}: {over} waiting over the {target_minutes}-minute target, longest {number} ({waited_minutes} min)"
    ),
    "alarm_pause_over_limit": N_("Counter {counter} paused {paused_minutes} min (limit {limit_minutes}): {reason}"),
    "alarm_unsatisfied_rating": N_("Unsatisfied rating: {number} at counter {counter} ({label})"),
    "alarm_case_red": N_("Case {number} turned red"),
    "alarm_device_offline": N_("Device {device} offline"),
    "alarm_open_counter": N_("Suggestion: open counter {counters} for {service}, {over} waiting over target"),
    "acknowledge": N_("Acknowledge"),
    "acknowledged_by": N_("Acknowledged by {by} at {time}"),
    "cleared_at": N_("Cleared by itself at {time}"),
    "alarm_open": N_("Needs acknowledging"),
    "no_alarms": N_("No open alarms"),
    "done_acknowledge": N_("Alarm acknowledged."),
    "err_bad_transition_alarm": N_("Acknowledged already, or cleared by itself"),
    "with_detail": N_("{headline}: {detail}"),
    "rating_5": N_("Very satisfied"),
    "rating_4": N_("Satisfied"),
    "rating_3": N_("Basically satisfied"),
    "rating_2": N_("Dissatisfied"),
    "rating_1": N_("Very dissatisfied"),
    "callback": N_("Record the callback"),
    "resolve": N_("Record the fix"),
    "note_callback": N_("What did the resident say on the callback?"),
    "note_resolve": N_("What was done to fix it?"),
    "send": N_("Save"),
    "cancel": N_("Cancel"),
    "overdue": N_("Overdue · escalated"),
    "order_open": N_("Callback due"),
    "order_called_back": N_("Fix due"),
    "none": N_("None open"),
    "done_callback": N_("Callback recorded for {number}."),
    "done_resolve": N_("Work order of {number} closed."),
    "err": N_("Not done"),
    "err_network": N_("The server did not answer; check the connection and try again."),
    "err_invalid": N_("Invalid input"),
    "err_not_found": N_("Not found"),
    "err_refused": N_("Not allowed by the rules"),
    "err_forbidden": N_("Not allowed"),
    "err_bad_transition": N_("Not possible at the work order's step"),
    "err_csrf": N_("The page has expired"),
    "err_unauthenticated": N_("Please log in again"),
}


def wallboard_words() -> dict[str, str]:
    """The words of the wallboard's script beyond the template's: a sentence per event kind, the
    rating levels and lights they name, and the work order buttons."""
    words = {f"ev_{kind.replace('.', '_', 1)}": _(WALLBOARD_SENTENCES[kind]) for kind in sorted(WALLBOARD_EVENTS)}
    words.update({key: _(text) for key, text in _WALLBOARD_WORDS.items()})
    words.update(light_script_words())
    return words

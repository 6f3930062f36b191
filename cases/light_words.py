"""The words a supervision light is shown with, for every staff page that shows one (case lists,
the case record, the supervision board, the wallboard): the light, what it is for (the case's
deadline, 承诺时限, or its stage's own limit, 环节超时) and the due time of that clock. Message ids
in English, translated by the catalog; the sign repeats the word, never replaces it."""

from __future__ import annotations

from hall.kernel.i18n import N_, _

LIGHTS = {"green": N_("Green · on track"), "yellow": N_("Yellow · near the limit"), "red": N_("Red · overdue")}
# What a yellow or red light is for: the whole case's deadline or the current stage's own limit,
# which can run out while the case's deadline is still ahead.
LIGHT_REASONS = {
    "case_yellow": N_("Yellow · case deadline near"),
    "case_red": N_("Red · case overdue"),
    "stage_yellow": N_("Yellow · {stage} stage near its limit"),
    "stage_red": N_("Red · {stage} stage over its limit"),
    "case_due": N_("Case deadline {time}"),
    "stage_due": N_("{stage} stage due {time}"),
}
# The stages that run a clock of their own (cases.catalog.ItemStage).
SPANS = {"accept": N_("Acceptance"), "review": N_("Review"), "approve": N_("Approval")}
# A sign beside the word, so the light never depends on colour alone; all three are in GB2312.
LIGHT_SIGNS = {"green": "●", "yellow": "▲", "red": "■"}


def light_script_words() -> dict[str, str]:
    """The words static/js/caserows.js reads a light with, in the visitor's language."""
    words = {f"light_{key}": _(text) for key, text in LIGHTS.items()}
    words.update({f"light_{key}": _(text) for key, text in LIGHT_REASONS.items()})
    words.update({f"span_{key}": _(text) for key, text in SPANS.items()})
    return words

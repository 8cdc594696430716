"""What the prescreen shows people: outcome wording and the lead page's panel."""

from __future__ import annotations

from typing import Any

from leads.models import Lead
from prescreen.models import PrescreenResponse, ResponseChannel, ResponseStatus
from prescreen.selectors import latest_response
from prescreen.services.responses import PRESCREENABLE

# Said next to every outcome, on every screen that shows one (DESIGN.md).
FINAL_DECISION = (
    "This result is for the study team to review: the study team makes the final decision "
    "about taking part."
)


def lead_panel(lead: Lead) -> dict[str, Any]:
    """The lead page's prescreen panel (one query: the lead's latest prescreen)."""
    response: PrescreenResponse | None = latest_response(lead.pk)
    can_conduct = lead.status in PRESCREENABLE
    if response is None:
        state = "Not prescreened yet."
    elif response.status == ResponseStatus.IN_PROGRESS:
        by = (
            "self-prescreen on the interest form"
            if response.channel == ResponseChannel.SELF
            else "in progress"
        )
        state = f"Prescreen started ({by}), answers saved so far."
    elif response.status == ResponseStatus.SUBMITTED:
        state = "Answers submitted: the result awaits a coordinator's confirmation."
    else:
        state = f"Recorded: {response.get_outcome_display()}"
        if response.overridden:
            state += f" (computed {response.get_computed_outcome_display().lower()})"
        if response.review_outcome:
            state += f"; study-team review: {response.get_review_outcome_display().lower()}"
    awaiting_review = (
        response is not None
        and response.outcome == "needs_review"
        and not response.review_outcome
        and lead.status == "needs_review"
    )
    return {
        "awaiting_review": awaiting_review,
        "response": response,
        "state": state,
        "can_conduct": can_conduct,
        "shows_outcome": response is not None and bool(response.outcome),
        "final_decision": FINAL_DECISION,
    }

"""What the lead page's outreach panel shows: its messages, replies waiting for the owner, and
where to send a message from."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from leads.models import Lead
from leads.outreach.selectors import lead_messages, lead_pending_reviews


def lead_outreach_panel(lead: Lead) -> dict[str, Any]:
    """The one context entry the lead page gives its outreach include."""
    return {
        "send_url": reverse("outreach_message_new", kwargs={"code": lead.code}),
        "messages": lead_messages(lead),
        "reviews": lead_pending_reviews(lead),
    }

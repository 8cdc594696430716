"""The scheduling app's answers to what the leads app announces (connected in SchedulingConfig)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from leads.models import Lead
from leads.signals import lead_page_shown
from scheduling.presenters import lead_panel


@receiver(lead_page_shown, sender=Lead)
def scheduling_panel(sender: Any, lead: Lead, **kwargs: Any) -> tuple[str, Any]:
    """The lead page's visits panel, under `panels.scheduling`."""
    return "scheduling", lead_panel(lead)

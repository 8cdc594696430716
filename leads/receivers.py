"""The leads app's answers to what the core announces (connected in LeadsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from leads.services.holds import study_site_hold_changed
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.studies.signals import recruitment_status_changed


@receiver(recruitment_status_changed, sender=StudySite)
def hold_or_release_leads(sender: Any, study_site: StudySite, actor: Actor, **kwargs: Any) -> None:
    """A paused or closed StudySite holds its open leads; recruiting again releases them."""
    study_site_hold_changed(study_site=study_site, actor=actor)

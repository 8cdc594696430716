"""What the core announces for the product's apps to act on, in the same transaction."""

from __future__ import annotations

from django.dispatch import Signal

# A StudySite's recruitment status changed (recruiting, paused, closed). Sent with
# `study_site` and `actor` (trialsnest.audit.services.Actor) inside the transaction that saved it.
recruitment_status_changed = Signal()

"""What intake announces for other apps to act on, in the same transaction."""

from __future__ import annotations

from django.dispatch import Signal

# A kept submission became a lead (or repeat interest on one). Sent with `submission`, `lead`
# and `actor` inside the transaction that processed it (leads.intake.submissions).
submission_made_lead = Signal()

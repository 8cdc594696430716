"""Every write to people and leads, one module per job; this package hands their names on.

Each service is atomic and writes its audit row in the same transaction; side effects go
after commit.
"""

from __future__ import annotations

from leads.services.assignment import choose_owner, lead_assign, leads_reassign_all, owners_for
from leads.services.contact import OptOutWarning, lead_log_attempt
from leads.services.holds import study_site_hold_changed
from leads.services.leads import (
    check_due_time,
    lead_add_note,
    lead_build,
    lead_change_status,
    lead_create,
    lead_set_blocker,
    lead_set_next_action,
    lead_snooze,
    leads_bulk,
)
from leads.services.locking import LeadConflict
from leads.services.people import opted_out_of, person_create, person_record_opt_out
from leads.services.policies import policy_for, policy_update
from leads.services.saved_views import saved_view_create, saved_view_delete

__all__ = [
    "LeadConflict", "OptOutWarning", "check_due_time", "choose_owner", "lead_add_note",
    "lead_assign", "lead_build", "lead_change_status", "lead_create", "lead_log_attempt",
    "lead_set_blocker", "lead_set_next_action", "lead_snooze", "leads_bulk",
    "leads_reassign_all", "opted_out_of", "owners_for", "person_create",
    "person_record_opt_out", "policy_for", "policy_update", "saved_view_create",
    "saved_view_delete", "study_site_hold_changed",
]  # fmt: skip

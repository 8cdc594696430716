"""Every write to people and leads, one module per job; this package hands their names on.

Each service is atomic and writes its audit row in the same transaction; side effects go
after commit.
"""

from __future__ import annotations

from leads.services.assignment import choose_owner, lead_assign, owners_for
from leads.services.bulk import (
    BulkResult,
    bulk_plan,
    leads_assign_many,
    leads_close_many,
    leads_set_next_action_many,
)
from leads.services.bulk_undo import bulk_change_undo
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
)
from leads.services.locking import LeadConflict
from leads.services.people import opted_out_of, person_create, person_record_opt_out
from leads.services.policies import policy_for, policy_update
from leads.services.reassignment import (
    PlanChanged,
    ReassignPlan,
    Undone,
    leads_reassign_all,
    reassign_plan,
)
from leads.services.saved_views import saved_view_create, saved_view_delete

__all__ = [
    "BulkResult", "LeadConflict", "OptOutWarning", "PlanChanged", "ReassignPlan", "Undone",
    "bulk_change_undo", "bulk_plan", "check_due_time", "choose_owner", "lead_add_note",
    "lead_assign",
    "lead_build", "lead_change_status", "lead_create", "lead_log_attempt", "lead_set_blocker",
    "lead_set_next_action", "lead_snooze", "leads_assign_many", "leads_close_many",
    "leads_reassign_all", "leads_set_next_action_many", "opted_out_of", "owners_for",
    "person_create", "person_record_opt_out", "policy_for", "policy_update", "reassign_plan",
    "saved_view_create", "saved_view_delete", "study_site_hold_changed",
]  # fmt: skip

"""No sequence of service calls breaks the invariant.

Hypothesis draws lists of actions (contact attempts, status changes with and without reasons,
next actions, snoozes, blockers, reassignments, people leaving, study holds, opt-outs, stale
versions, the clock moving) and runs them through the services on PostgreSQL. After every step:
every open lead has an owner, a next action with a due time and a place in the queue; every
closed lead has a reason; the timeline only grows. A rejected action must be a clear error
(ValidationError, LeadConflict, OptOutWarning), never an IntegrityError from the check
constraints.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import services
from leads.actions import ACTIONS
from leads.models import (
    OPEN_Q,
    ActionKind,
    Activity,
    Blocker,
    Channel,
    CloseReason,
    Lead,
    Outcome,
    Status,
)
from leads.services import LeadConflict, OptOutWarning
from tests.conftest import World
from tests.factories import MembershipFactory, new_lead
from tests.leads.conftest import WEDNESDAY_10AM
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus, StudySite
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.services import study_site_update

MEMBERS = ("coordinator", "spare", "site_lead", "admin", "outsider")

target = st.integers(min_value=0, max_value=2)
# Mostly the version the user saw; sometimes an older one (someone else saved meanwhile).
stale = st.sampled_from([False, False, False, True])
ATTEMPT = st.fixed_dictionaries(
    {
        "do": st.just("attempt"),
        "lead": target,
        "stale": stale,
        "channel": st.sampled_from(Channel.values),
        "outcome": st.sampled_from(Outcome.values),
        "confirm": st.booleans(),
    }
)
STATUS = st.fixed_dictionaries(
    {
        "do": st.just("status"),
        "lead": target,
        "stale": stale,
        "status": st.sampled_from([*Status.values, "enrolled"]),
        "close_reason": st.sampled_from(["", "whatever", *CloseReason.values]),
        "reason": st.sampled_from(["", " ", "She called back"]),
    }
)
# The registry's actions on one lead (leads/actions.py), each drawn with its inputs.
LEAD_ACTIONS = {
    "attempt": ATTEMPT,
    "status": STATUS,
    "next_action": st.fixed_dictionaries(
        {
            "do": st.just("next_action"),
            "lead": target,
            "stale": stale,
            "kind": st.sampled_from(["", "nonsense", *ActionKind.values]),
            "hours": st.integers(min_value=-48, max_value=24 * 30),
        }
    ),
    "snooze": st.fixed_dictionaries(
        {
            "do": st.just("snooze"),
            "lead": target,
            "stale": stale,
            "hours": st.integers(min_value=-5, max_value=24 * 10),
        }
    ),
    "blocker": st.fixed_dictionaries(
        {
            "do": st.just("blocker"),
            "lead": target,
            "stale": stale,
            "blocker": st.sampled_from(["", "nonsense", *Blocker.values]),
            "text": st.sampled_from(["", "Travelling"]),
        }
    ),
    "assign": st.fixed_dictionaries(
        {"do": st.just("assign"), "lead": target, "stale": stale, "to": st.sampled_from(MEMBERS)}
    ),
    "opt_out": st.fixed_dictionaries(
        {"do": st.just("opt_out"), "lead": target, "channel": st.sampled_from(Channel.values)}
    ),
    "note": st.fixed_dictionaries(
        {"do": st.just("note"), "lead": target, "text": st.sampled_from(["", "Hi"])}
    ),
}
# Contact attempts and status changes are what coordinators do most: they weigh triple.
ACTION = st.one_of(
    ATTEMPT,
    ATTEMPT,
    STATUS,
    STATUS,
    *LEAD_ACTIONS.values(),
    st.fixed_dictionaries(
        {
            "do": st.just("reassign_all"),
            "from": st.sampled_from(("coordinator", "spare")),
            "to": st.sampled_from(("", "site_lead", "spare", "outsider")),
        }
    ),
    st.fixed_dictionaries(
        {"do": st.just("leave"), "who": st.sampled_from(("coordinator", "spare"))}
    ),
    st.fixed_dictionaries(
        {"do": st.just("hold"), "status": st.sampled_from(RecruitmentStatus.values)}
    ),
    st.fixed_dictionaries({"do": st.just("new_lead")}),
    st.fixed_dictionaries(
        {"do": st.just("clock"), "hours": st.integers(min_value=1, max_value=240)}
    ),
)


class Scenario:
    """One example's organization state, reloaded so nothing leaks between examples."""

    def __init__(self, world: World) -> None:
        self.study_site = StudySite.objects.get(pk=world.study_site_a.pk)
        spare = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
        self.codes = {
            "coordinator": world.coordinator.pk,
            "spare": spare.pk,
            "site_lead": world.site_lead.pk,
            "admin": world.admin.pk,
            "outsider": world.outsider.pk,
        }
        self.actor = Actor(user=world.site_lead.user)
        self.admin_user = world.admin.user
        self.leads = [self._new_lead() for _ in range(2)]

    def _new_lead(self) -> Lead:
        return new_lead(study_site=StudySite.objects.get(pk=self.study_site.pk))

    def member(self, name: str) -> Membership:
        return Membership.objects.get(pk=self.codes[name])

    def lead(self, index: int) -> Lead:
        return self.leads[index % len(self.leads)]

    def apply(self, action: dict[str, Any], clock: Any) -> None:
        do = action["do"]
        if do == "clock":
            clock.shift(timedelta(hours=action["hours"]))
            return
        if do == "new_lead":
            self.leads.append(self._new_lead())
            return
        if do == "leave":
            Membership.objects.filter(pk=self.codes[action["who"]]).update(is_active=False)
            return
        if do == "hold":
            study_site_update(
                study_site=self.study_site,
                recruitment_status=action["status"],
                actor=Actor(user=self.admin_user),
            )
            return
        if do == "reassign_all":
            services.leads_reassign_all(
                from_owner=self.member(action["from"]),
                to_owner=self.member(action["to"]) if action["to"] else None,
                actor=self.actor,
            )
            return
        lead = Lead.objects.get(pk=self.lead(action["lead"]).pk)
        version = lead.version - 1 if action.get("stale") else lead.version
        # Through the registry the views use, with what each form's cleaned data holds.
        ACTIONS[do].apply(lead, self.form_data(action, version), self.actor)

    def form_data(self, action: dict[str, Any], version: int) -> dict[str, Any]:
        now = timezone.now()
        do = action["do"]
        if do == "attempt":
            return {
                "channel": action["channel"],
                "outcome": action["outcome"],
                "direction": "outbound",
                "note": "",
                "callback_at": None,
                "confirm_opt_out": action["confirm"],
                "version": version,
            }
        if do == "status":
            return {
                "status": action["status"],
                "close_reason": action["close_reason"],
                "reason": action["reason"],
                "version": version,
            }
        if do == "next_action":
            due_at = now + timedelta(hours=action["hours"])
            return {"kind": action["kind"], "due_at": due_at, "note": "", "version": version}
        if do == "snooze":
            return {"until": now + timedelta(hours=action["hours"]), "version": version}
        if do == "blocker":
            return {
                "blocker": action["blocker"],
                "blocker_text": action["text"],
                "version": version,
            }
        if do == "assign":
            return {"owner": self.member(action["to"]), "version": version}
        if do == "opt_out":
            return {"channel": action["channel"], "evidence": ""}
        return {"text": action["text"]}


def test_the_property_draws_every_action_the_views_offer():
    assert set(LEAD_ACTIONS) == set(ACTIONS)


def _broken_leads() -> list[tuple[str, str, str]]:
    without_next_action = Lead.objects.filter(OPEN_Q).filter(
        Q(owner__isnull=True)
        | Q(next_action="")
        | Q(next_action_due_at__isnull=True)
        | Q(attention_at__isnull=True)
    )
    without_reason = Lead.objects.filter(status=Status.CLOSED, close_reason="")
    return list(
        without_next_action.union(without_reason).values_list(
            "status", "next_action", "close_reason"
        )
    )


def _timeline() -> dict[int, tuple[Any, ...]]:
    return {
        row[0]: row[1:]
        for row in Activity.objects.values_list("id", "lead_id", "kind", "at", "text", "data")
    }


@settings(
    max_examples=60,
    deadline=None,
    # The `world` fixture is built once; each example runs in a transaction rolled back after.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTION, min_size=1, max_size=20))
def test_no_sequence_of_actions_breaks_the_invariant(world: World, actions: list[dict[str, Any]]):
    with time_machine.travel(WEDNESDAY_10AM, tick=False) as clock, transaction.atomic():
        scenario = Scenario(world)
        for action in actions:
            before = _timeline()
            versions = dict(Lead.objects.values_list("id", "version"))
            with contextlib.suppress(ValidationError, LeadConflict, OptOutWarning):
                scenario.apply(action, clock)

            assert _broken_leads() == [], action
            after = _timeline()
            assert {key: after.get(key) for key in before} == before, "the timeline was edited"
            for lead_id, version in Lead.objects.values_list("id", "version"):
                assert version >= versions.get(lead_id, 1)
        transaction.set_rollback(True)

"""Each queue tab holds exactly what its name says, on both sides of every boundary, and its
"Why now" names the reason the row is in that tab. Snoozing takes a lead out of Due now and
Stale until it wakes.

The clock is Wednesday 10:00 in Chicago (T); the sites keep 09:00-17:00, Monday to Friday.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads.models import ActionKind, ActivityKind, CloseReason, Lead, Status
from leads.services import lead_change_status, lead_set_next_action, lead_snooze
from leads.services.policies import policy_for
from tests.conftest import World, signed_in
from tests.factories import new_lead
from tests.leads.conftest import WEDNESDAY_10AM, actor_of
from tests.leads.test_queue import WHY, counts, queue, rows
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus
from trialsnest.tenancy.services import study_site_update

T = WEDNESDAY_10AM
MINUTE = timedelta(minutes=1)


def _lead(world: World, received: datetime, *, due: datetime | None = None) -> Lead:
    """A lead received at `received` (first contact due then), its next action moved to `due`
    at the same moment when given. Setting a next action is no movement."""
    with time_machine.travel(received, tick=False):
        lead = new_lead(study_site=world.study_site_a)
        if due is not None:
            lead = lead_set_next_action(
                lead=lead, kind=ActionKind.FIRST_CONTACT, due_at=due, actor=actor_of(world)
            )
    return lead


def _snooze(world: World, lead: Lead, *, at: datetime, until: datetime) -> Lead:
    with time_machine.travel(at, tick=False):
        return lead_snooze(lead=lead, until=until, actor=actor_of(world, "coordinator"))


def _tab(world: World, tab: str, at: datetime = T) -> dict[str, str]:
    """The tab as the site lead sees it at `at`: each row's lead code and its reason (without
    the "past target" badge, which says something else)."""
    with time_machine.travel(at, tick=False):
        response = queue(signed_in(world.site_lead.user), tab=tab)
    reasons = [
        html.unescape(
            re.sub(r"<[^>]+>", "", re.sub(r'<span class="sla">.*?</span>', "", why))
        ).strip()
        for why in WHY.findall(response.content.decode())
    ]
    return dict(zip(rows(response), reasons, strict=True))


def _codes(**leads: Lead) -> dict[str, str]:
    return {str(lead.code): name for name, lead in leads.items()}


def test_due_now_holds_the_leads_whose_next_action_is_due_by_now_and_no_others(world: World):
    due_by_now = _lead(world, T - MINUTE)
    due_in_a_minute = _lead(world, T - timedelta(hours=1), due=T + MINUTE)
    # The old bug: stale for a day, its next action three days away. Stale, not due.
    stale_not_due = _lead(world, T - timedelta(days=8), due=T + timedelta(days=3))
    snoozed = _snooze(world, _lead(world, T - timedelta(hours=2)), at=T - MINUTE, until=T + MINUTE)
    awake = _snooze(
        world, _lead(world, T - timedelta(hours=3)), at=T - timedelta(hours=1), until=T - MINUTE
    )
    names = _codes(
        due_by_now=due_by_now,
        due_in_a_minute=due_in_a_minute,
        stale_not_due=stale_not_due,
        snoozed=snoozed,
        awake=awake,
    )

    due = {names[code]: why for code, why in _tab(world, "due").items()}

    assert due == {
        "due_by_now": "first contact due now",
        "awake": "first contact overdue 3 h",
    }
    assert "stale_not_due" in {names[code] for code in _tab(world, "stale")}


def test_due_now_counts_a_lead_from_the_minute_its_action_is_due(world: World):
    lead = _lead(world, T - timedelta(hours=1), due=T)

    before = _tab(world, "due", at=T - MINUTE)
    on_time = _tab(world, "due", at=T)

    assert before == {}
    assert on_time == {str(lead.code): "first contact due now"}


def test_stale_holds_the_leads_without_movement_past_the_study_sites_stale_period(
    world: World,
):
    policy = policy_for(world.study_site_a)
    policy.stale_after_days = 5
    policy.save()
    later = T + timedelta(days=2)
    just_stale = _lead(world, T - timedelta(days=5) - MINUTE, due=later)
    nearly_stale = _lead(world, T - timedelta(days=5) + MINUTE, due=later)
    due_not_stale = _lead(world, T - timedelta(hours=1))
    snoozed = _snooze(
        world, _lead(world, T - timedelta(days=9), due=later), at=T - MINUTE, until=T + MINUTE
    )
    names = _codes(
        just_stale=just_stale,
        nearly_stale=nearly_stale,
        due_not_stale=due_not_stale,
        snoozed=snoozed,
    )

    stale = {names[code]: why for code, why in _tab(world, "stale").items()}

    assert stale == {"just_stale": "no movement for 5 days"}
    assert {names[code] for code in _tab(world, "due")} == {"due_not_stale"}


def test_a_stale_leads_reason_in_due_now_is_its_next_action_and_in_stale_its_stillness(
    world: World,
):
    lead = _lead(world, T - timedelta(days=9), due=T - timedelta(days=2))

    assert _tab(world, "due") == {str(lead.code): "first contact overdue 2 days"}
    assert _tab(world, "stale") == {str(lead.code): "no movement for 9 days"}


def test_overdue_holds_the_leads_past_their_sla_target_and_names_the_target(world: World):
    # 8 business hours from Tuesday 09:59 end Wednesday 09:59; from 10:01, Wednesday 10:01.
    missed = _lead(world, T - timedelta(days=1) - MINUTE)
    in_time = _lead(world, T - timedelta(days=1) + MINUTE)
    assert missed.sla_due_at == T - MINUTE
    assert in_time.sla_due_at == T + MINUTE

    overdue = _tab(world, "overdue")

    assert overdue == {str(missed.code): "first response target missed 1 min ago"}


def test_the_status_tabs_hold_their_status_and_not_the_next_one(world: World):
    actor = actor_of(world)
    after_prescreen = [Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY]
    paths = {
        Status.NEW: [],
        Status.CONTACTING: [Status.CONTACTING],
        Status.PRESCREENING: [Status.PRESCREENING],
        Status.RECORDS_PENDING: after_prescreen[:2],
        Status.RECORDS_READY: after_prescreen,
        Status.VISIT_SCHEDULED: [*after_prescreen, Status.VISIT_SCHEDULED],
        Status.HANDED_OFF: [*after_prescreen, Status.VISIT_SCHEDULED, Status.HANDED_OFF],
    }
    by_status: dict[str, Lead] = {}
    with time_machine.travel(T - timedelta(hours=1), tick=False):
        for status, path in paths.items():
            lead = new_lead(study_site=world.study_site_a)
            for step in path:
                lead = lead_change_status(lead=lead, status=step, due_at=T + MINUTE, actor=actor)
            by_status[status] = lead
        by_status[Status.CLOSED] = lead_change_status(
            lead=new_lead(study_site=world.study_site_a),
            status=Status.CLOSED,
            close_reason=CloseReason.NOT_INTERESTED,
            actor=actor,
        )
    names = {str(lead.code): status for status, lead in by_status.items()}
    assert {status: lead.status for status, lead in by_status.items()} == {
        status: status for status in by_status
    }

    def tab(key: str) -> set[str]:
        return {names[code] for code in _tab(world, key)}

    assert tab("new") == {Status.NEW}
    assert tab("records") == {Status.RECORDS_PENDING}
    assert tab("ready") == {Status.RECORDS_READY}
    assert tab("scheduled") == {Status.VISIT_SCHEDULED}
    assert tab("open") == {
        Status.NEW,
        Status.CONTACTING,
        Status.PRESCREENING,
        Status.RECORDS_PENDING,
        Status.RECORDS_READY,
        Status.VISIT_SCHEDULED,
    }
    assert _tab(world, "ready")[str(by_status[Status.RECORDS_READY].code)] == (
        "schedule visit due in 1 min"
    )


def test_a_held_lead_is_in_no_attention_tab_and_says_why_in_all_open(world: World):
    lead = _lead(world, T - timedelta(days=9))
    study_site_update(
        study_site=world.study_site_a,
        recruitment_status=RecruitmentStatus.PAUSED,
        actor=Actor(user=world.admin.user),
    )

    assert _tab(world, "due") == _tab(world, "stale") == _tab(world, "overdue") == {}
    assert _tab(world, "open") == {str(lead.code): "study paused: on hold until recruiting resumes"}


# Snoozing ------------------------------------------------------------------------------------


def test_a_snoozed_stale_lead_leaves_due_now_and_stale_until_it_wakes(world: World):
    lead = _lead(world, T - timedelta(days=9), due=T - timedelta(days=1))
    code = str(lead.code)
    assert code in _tab(world, "due")
    assert code in _tab(world, "stale")

    _snooze(world, lead, at=T, until=T + timedelta(days=1))

    with time_machine.travel(T + MINUTE, tick=False):
        response = queue(signed_in(world.site_lead.user))
    assert code not in rows(response)
    assert (counts(response)["Due now"], counts(response)["Stale"]) == (0, 0)
    assert _tab(world, "open", at=T + MINUTE) == {code: "snoozed until Thu 05 Jun 10:00 CDT"}
    woken = T + timedelta(days=1)
    assert _tab(world, "due", at=woken) == {code: "first contact overdue 2 days"}
    assert _tab(world, "stale", at=woken) == {code: "no movement for 10 days"}


def test_the_timeline_says_who_snoozed_and_until_when(world: World):
    lead = _snooze(world, _lead(world, T - timedelta(hours=1)), at=T, until=T + timedelta(hours=5))

    with time_machine.travel(T, tick=False):
        page = signed_in(world.site_lead.user).get(
            reverse("lead_detail", kwargs={"code": lead.code})
        )

    body = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.content.decode())))
    coordinator = world.coordinator.user
    assert f"Snoozed until Wed 04 Jun 15:00 CDT by {coordinator.get_full_name()}" in body
    entry = lead.activities.get(kind=ActivityKind.SNOOZE)
    assert entry.actor == coordinator


def test_contact_or_a_new_next_action_ends_a_snooze(world: World):
    lead = _snooze(world, _lead(world, T - timedelta(hours=1)), at=T, until=T + timedelta(days=2))

    with time_machine.travel(T + MINUTE, tick=False):
        lead = lead_set_next_action(
            lead=lead, kind=ActionKind.CALLBACK, due_at=T + MINUTE, actor=actor_of(world)
        )

    assert lead.snoozed_until is None
    assert _tab(world, "due", at=T + MINUTE) == {str(lead.code): "callback due now"}


@pytest.mark.parametrize("until", [T, T - MINUTE])
def test_a_snooze_must_end_in_the_future(world: World, until: datetime):
    lead = _lead(world, T - timedelta(hours=1))
    with pytest.raises(ValidationError, match="future"):
        _snooze(world, lead, at=T, until=until)

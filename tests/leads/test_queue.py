"""The coordinator queue: tabs with live counts, reasons in words, paging, filters, search,
saved views, bulk actions and inline actions — every one of them usable without JavaScript."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from leads import selectors
from leads.models import (
    ActionKind,
    ActivityKind,
    Blocker,
    Channel,
    CloseReason,
    Lead,
    Outcome,
    Person,
    SavedView,
    Source,
    Status,
)
from leads.services import (
    lead_change_status,
    lead_log_attempt,
    lead_set_next_action,
    saved_view_create,
)
from tests.conftest import World, signed_in
from tests.factories import MembershipFactory, PersonFactory, new_lead
from tests.leads.conftest import WEDNESDAY_10AM, actor_of, fresh
from trialsnest.audit.services import Actor
from trialsnest.studies.models import RecruitmentStatus
from trialsnest.tenancy.models import Role
from trialsnest.tenancy.services import study_site_update

T = WEDNESDAY_10AM
HTMX = {"HX-Request": "true"}
ROW = re.compile(r'<tbody id="lead-([0-9a-f-]{36})"')
COUNT = re.compile(r'>([^<>]+?) <span class="count">(\d+)</span>')
MORE = re.compile(r'id="more".*?href="([^"]+)"', re.S)
WHY = re.compile(r'<td class="why">(.*?)</td>', re.S)


def rows(response) -> list[str]:
    return ROW.findall(response.content.decode())


def counts(response) -> dict[str, int]:
    return {label: int(n) for label, n in COUNT.findall(response.content.decode())}


def why(response) -> str:
    """The reason of the only row on the page, as the coordinator reads it."""
    [text] = WHY.findall(response.content.decode())
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def queue(client: Client, **query: str):
    response = client.get(reverse("queue"), query)
    assert response.status_code == 200
    return response


def _at(moment, **kwargs) -> Lead:
    with time_machine.travel(moment, tick=False):
        return new_lead(**kwargs)


# Tabs, counts and reasons --------------------------------------------------------------------


@pytest.fixture
def board(world: World) -> dict[str, Lead]:
    """One lead for each place in the queue, as of Wednesday 10:00 in Chicago."""
    ss = world.study_site_a
    actor = actor_of(world)
    leads: dict[str, Lead] = {}
    leads["due"] = _at(T - timedelta(hours=1), study_site=ss)
    leads["later"] = _at(T, study_site=ss)
    # Received Monday 10:00: the 8 business hours of the first-response target ended Tuesday.
    leads["overdue"] = _at(T - timedelta(days=2), study_site=ss)
    stale = _at(T - timedelta(days=9), study_site=ss)
    with time_machine.travel(T - timedelta(days=9), tick=False):
        leads["stale"] = lead_log_attempt(
            lead=stale, channel=Channel.PHONE, outcome=Outcome.NO_ANSWER, actor=actor
        )
    paths = {
        "records": (Status.PRESCREENING, Status.RECORDS_PENDING),
        "ready": (Status.PRESCREENING, Status.RECORDS_PENDING, Status.RECORDS_READY),
        "scheduled": (
            Status.PRESCREENING,
            Status.RECORDS_PENDING,
            Status.RECORDS_READY,
            Status.VISIT_SCHEDULED,
        ),
    }
    with time_machine.travel(T, tick=False):
        lead_set_next_action(
            lead=leads["later"],
            kind=ActionKind.FIRST_CONTACT,
            due_at=T + timedelta(hours=3),
            actor=actor,
        )
        for name, path in paths.items():
            lead = new_lead(study_site=ss)
            for status in path:
                lead = lead_change_status(
                    lead=lead, status=status, due_at=T + timedelta(days=1), actor=actor
                )
            leads[name] = lead
        leads["paused"] = new_lead(study_site=world.study_site_a2)
        study_site_update(
            study_site=world.study_site_a2,
            recruitment_status=RecruitmentStatus.PAUSED,
            actor=Actor(user=world.admin.user),
        )
        leads["closed"] = lead_change_status(
            lead=new_lead(study_site=ss),
            status=Status.CLOSED,
            close_reason=CloseReason.NOT_INTERESTED,
            actor=actor,
        )
    return leads


TABS = {
    "due": ("Due now", {"due", "overdue", "stale"}),
    "overdue": ("Overdue", {"overdue"}),
    "new": ("New", {"due", "later", "overdue", "paused"}),
    "records": ("Waiting on records", {"records"}),
    "ready": ("Ready to schedule", {"ready"}),
    "scheduled": ("Scheduled", {"scheduled"}),
    "stale": ("Stale", {"stale"}),
    "open": (
        "All open",
        {"due", "later", "overdue", "stale", "records", "ready", "scheduled", "paused"},
    ),
}


@pytest.mark.parametrize("tab", list(TABS))
def test_each_tab_lists_its_leads_and_every_tab_shows_its_live_count(
    world: World, board: dict[str, Lead], tab: str
):
    with time_machine.travel(T, tick=False):
        response = queue(signed_in(world.site_lead.user), tab=tab)

    by_code = {str(lead.code): name for name, lead in board.items()}
    assert {by_code[code] for code in rows(response)} == TABS[tab][1]
    assert counts(response) == {label: len(names) for label, names in TABS.values()}


def test_the_queue_opens_on_due_now_in_order_of_attention(world: World, board: dict[str, Lead]):
    with time_machine.travel(T, tick=False):
        response = queue(signed_in(world.site_lead.user))

    assert rows(response) == [str(board[name].code) for name in ("stale", "overdue", "due")]
    assert 'aria-current="page">Due now' in response.content.decode()


def test_an_unknown_tab_shows_due_now(world: World, board: dict[str, Lead]):
    with time_machine.travel(T, tick=False):
        response = queue(signed_in(world.site_lead.user), tab="<script>")

    assert len(rows(response)) == 3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("due", "first contact overdue 1 h"),
        ("later", "first contact due in 3 h"),
        ("overdue", "first contact overdue 2 days past target"),
        ("stale", "no movement for 9 days"),
        ("records", "request records due in 24 h"),
        ("paused", "study paused: on hold until recruiting resumes"),
    ],
)
def test_each_row_says_why_it_is_in_the_queue(
    world: World, board: dict[str, Lead], name: str, reason: str
):
    lead = board[name]
    with time_machine.travel(T, tick=False):
        response = queue(signed_in(world.site_lead.user), tab="open")

    codes = rows(response)
    assert str(lead.code) in codes
    reasons = dict(zip(codes, WHY.findall(response.content.decode()), strict=True))
    text = html.unescape(re.sub(r"<[^>]+>", "", reasons[str(lead.code)])).strip()
    assert text == reason


def test_the_reason_changes_when_the_clock_moves(world: World):
    with time_machine.travel(T, tick=False):
        lead = new_lead(study_site=world.study_site_a)
        lead_set_next_action(
            lead=lead,
            kind=ActionKind.FIRST_CONTACT,
            due_at=T + timedelta(hours=3),
            actor=actor_of(world),
        )

    reasons = []
    for moment in (
        T,
        T + timedelta(hours=2, minutes=30),
        T + timedelta(hours=3, minutes=20),
        T + timedelta(days=2, hours=3),
        T + timedelta(days=9),
    ):
        with time_machine.travel(moment, tick=False):
            reasons.append(why(queue(signed_in(world.coordinator.user), tab="open")))

    assert reasons == [
        "first contact due in 3 h",
        "first contact due in 30 min",
        "first contact due now",
        "first contact overdue 2 days past target",
        "no movement for 9 days past target",
    ]


def test_a_lead_leaves_due_now_when_its_study_is_paused_and_returns_on_resume(world: World):
    lead = new_lead(study_site=world.study_site_a)
    client = signed_in(world.site_lead.user)
    assert rows(queue(client)) == [str(lead.code)]

    study_site_update(
        study_site=world.study_site_a,
        recruitment_status=RecruitmentStatus.PAUSED,
        actor=Actor(user=world.admin.user),
    )
    paused = queue(client)

    assert rows(paused) == []
    assert counts(paused)["Due now"] == 0
    assert counts(paused)["All open"] == 1

    study_site_update(
        study_site=world.study_site_a,
        recruitment_status=RecruitmentStatus.RECRUITING,
        actor=Actor(user=world.admin.user),
    )
    assert rows(queue(client)) == [str(lead.code)]


# Keyset paging -------------------------------------------------------------------------------


def test_paging_through_the_queue_returns_every_open_lead_exactly_once(world: World):
    # Many leads share one attention time: the id breaks the tie.
    leads = [_at(T - timedelta(hours=i % 3), study_site=world.study_site_a) for i in range(115)]
    lead_change_status(
        lead=leads[0],
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        actor=actor_of(world),
    )
    client = signed_in(world.coordinator.user)

    seen: list[str] = []
    pages = 0
    url = f"{reverse('queue')}?tab=open"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += rows(response)
        pages += 1
        more = MORE.search(response.content.decode())
        url = reverse("queue") + html.unescape(more.group(1)) if more else ""

    assert pages == 3
    assert len(seen) == len(set(seen)) == 114
    assert set(seen) == {str(lead.code) for lead in leads[1:]}


def test_show_more_with_htmx_answers_just_the_next_rows(world: World):
    for _ in range(selectors.PAGE_SIZE + 3):
        new_lead(study_site=world.study_site_a, received_at=T)
    client = signed_in(world.coordinator.user)
    first = queue(client)
    more = MORE.search(first.content.decode())
    assert more is not None

    response = client.get(reverse("queue") + html.unescape(more.group(1)), headers=HTMX)

    body = response.content.decode()
    assert "<html" not in body
    assert len(rows(response)) == 3
    assert not set(rows(response)) & set(rows(first))
    assert 'id="more"' not in body


def test_the_selector_pages_ties_by_id_without_gaps_or_repeats(world: World):
    leads = [new_lead(study_site=world.study_site_a, received_at=T) for _ in range(23)]
    filters = selectors.QueueFilters()

    seen: list[int] = []
    after = None
    while True:
        page = selectors.queue_rows(
            world.coordinator, tab="open", filters=filters, now=T, after=after, limit=5
        )
        if not page:
            break
        seen += [lead.pk for lead in page]
        after = selectors.parse_cursor(selectors.cursor_of(page[-1]))

    assert seen == sorted(lead.pk for lead in leads)


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "_",
        "2025-06-04T10:00:00+00:00_x",
        "2025-06-04T10:00:00+00:00_99999999999999999999",
    ],
)
def test_a_broken_cursor_is_harmless(world: World, after: str):
    new_lead(study_site=world.study_site_a)

    response = signed_in(world.coordinator.user).get(reverse("queue"), {"after": after})

    assert response.status_code == 200


def test_a_cursor_without_a_time_zone_is_harmless(world: World):
    # BUG (leads/selectors.py parse_cursor): a naive time reaches the ORM, which warns (an error
    # under this project's warning filter) instead of the cursor being read as UTC or ignored.
    new_lead(study_site=world.study_site_a)

    response = signed_in(world.coordinator.user).get(
        reverse("queue"), {"after": "2025-06-04T10:00:00_1"}
    )

    assert response.status_code == 200


# Filters -----------------------------------------------------------------------------------


def test_filters_narrow_the_rows_and_the_counts(world: World):
    mine = new_lead(study_site=world.study_site_a2, owner=world.site_lead)
    referral = new_lead(
        study_site=world.study_site_a, source=Source.PHYSICIAN_REFERRAL, owner=world.coordinator
    )
    client = signed_in(world.site_lead.user)

    by_me = queue(client, owner="me")
    by_source = queue(client, source=Source.PHYSICIAN_REFERRAL)
    by_site = queue(client, site=str(world.site_a2.code))
    by_study = queue(client, study=str(world.study_site_a.study.code))

    assert rows(by_me) == [str(mine.code)]
    assert counts(by_me)["All open"] == 1
    assert rows(by_source) == [str(referral.code)]
    assert rows(by_site) == [str(mine.code)]
    assert rows(by_study) == [str(referral.code)]


def test_a_blocker_filter_finds_leads_with_or_without_one(world: World):
    blocked = lead_log_attempt(
        lead=new_lead(study_site=world.study_site_a),
        channel=Channel.PHONE,
        outcome=Outcome.NO_ANSWER,
        actor=actor_of(world),
    )
    clear = new_lead(study_site=world.study_site_a)
    client = signed_in(world.site_lead.user)

    assert rows(queue(client, tab="open", blocker=Blocker.NO_RESPONSE)) == [str(blocked.code)]
    assert rows(queue(client, tab="open", blocker="none")) == [str(clear.code)]


def test_an_unknown_filter_value_is_a_clear_message_and_is_ignored(world: World):
    lead = new_lead(study_site=world.study_site_a)

    response = queue(signed_in(world.site_lead.user), status="enrolled", site="nowhere")

    body = response.content.decode()
    assert "Unknown status." in body
    assert "Unknown site." in body
    assert rows(response) == [str(lead.code)]


# Search ------------------------------------------------------------------------------------


@pytest.fixture
def ana(world: World) -> Lead:
    person = PersonFactory(
        organization=world.org_a,
        first_name="Ana",
        last_name="Okafor",
        phone="(312) 555-0142",
        email="ana.okafor@example.com",
    )
    return new_lead(study_site=world.study_site_a, person=person)


@pytest.mark.parametrize(
    "text",
    [
        "312-555-0142",
        "(312) 555 0142",
        "+1 312 555 0142",
        "3125550142",
        "Ana.Okafor@Example.com",
        "oka",
        "Ana",
        "ana okafor",
        "An Oka",
    ],
)
def test_search_finds_a_person_by_phone_in_any_format_email_or_name(
    world: World, ana: Lead, text: str
):
    new_lead(study_site=world.study_site_a, person__first_name="Bea", person__last_name="Ng")

    response = signed_in(world.coordinator.user).get(reverse("queue_search"), {"q": text})

    assert response.status_code == 200
    assert str(ana.code) in response.content.decode()
    assert "Bea Ng" not in response.content.decode()


def test_search_says_when_nobody_is_found(world: World, ana: Lead):
    response = signed_in(world.coordinator.user).get(reverse("queue_search"), {"q": "Zed"})

    assert "No one found for “Zed”." in response.content.decode()


def test_search_with_htmx_answers_just_the_results(world: World, ana: Lead):
    response = signed_in(world.coordinator.user).get(
        reverse("queue_search"), {"q": "Okafor"}, headers=HTMX
    )

    body = response.content.decode()
    assert "<html" not in body
    assert "Ana Okafor" in body


@pytest.mark.parametrize("text", ["ab\x00", "ana\x00@example.com"])
def test_search_with_a_nul_character_is_no_error(world: World, ana: Lead, text: str):
    # BUG (leads/selectors.py search / leads/views.py queue_search): the raw query string goes
    # into a LIKE on PostgreSQL, which refuses NUL bytes with a DataError -> 500.
    response = signed_in(world.coordinator.user).get(reverse("queue_search"), {"q": text})

    assert response.status_code == 200


def _found(user, text: str) -> list[str]:
    """The names of the people the staff search finds for `text`."""
    response = signed_in(user).get(reverse("queue_search"), {"q": text})
    assert response.status_code == 200
    return sorted({lead.person.full_name for lead, _ in response.context["results"]})


@pytest.mark.parametrize(
    "text",
    ["mart", "Martinez", "MARTÍ", "lin", "Linda", "lin mar", "Lin Martinez", "linda m",
     "mart lin", "martinez, linda", "l m"],
)  # fmt: skip
def test_the_staff_search_finds_a_person_by_the_start_of_a_first_or_last_name(
    world: World, text: str
):
    new_lead(study_site=world.study_site_a, person__first_name="Linda",
             person__last_name="Martinez")  # fmt: skip
    new_lead(study_site=world.study_site_a, person__first_name="Bea", person__last_name="Ng")
    # Another organization's Linda Martinez, at a StudySite of the same study.
    new_lead(study_site=world.study_site_b, person__first_name="Linda",
             person__last_name="Martinez", person__phone="+13125550199")  # fmt: skip

    assert _found(world.admin.user, text) == ["Linda Martinez"]
    assert _found(world.outsider.user, "Bea") == []


def test_the_staff_search_finds_names_with_or_without_accents(world: World):
    new_lead(study_site=world.study_site_a, person__first_name="María José",
             person__last_name="González Peña")  # fmt: skip
    new_lead(
        study_site=world.study_site_a, person__first_name="Maria", person__last_name="Gonzalez"
    )

    assert _found(world.admin.user, "maría gonz") == ["Maria Gonzalez", "María José González Peña"]
    assert _found(world.admin.user, "MARIA GONZÁLEZ") == [
        "Maria Gonzalez",
        "María José González Peña",
    ]
    # A name of several words, by its start.
    assert _found(world.admin.user, "maria jose gonzalez p") == ["María José González Peña"]
    # Every word typed is the start of a word of the name, in any order.
    assert _found(world.admin.user, "gonzalez pena maria") == ["María José González Peña"]
    assert _found(world.admin.user, "jose") == ["María José González Peña"]
    assert _found(world.admin.user, "pen") == ["María José González Peña"]


def test_the_staff_search_finds_a_person_by_the_start_of_any_word_of_the_name(world: World):
    new_lead(study_site=world.study_site_a, person__first_name="María",
             person__last_name="López García")  # fmt: skip
    new_lead(study_site=world.study_site_a, person__first_name="Garcia",
             person__last_name="Nunez")  # fmt: skip
    new_lead(study_site=world.study_site_a, person__first_name="Ana-Lucía",
             person__last_name="O'Brien")  # fmt: skip

    assert _found(world.admin.user, "Garc") == ["Garcia Nunez", "María López García"]
    assert _found(world.admin.user, "maria garc") == ["María López García"]
    assert _found(world.admin.user, "garc lop") == ["María López García"]
    assert _found(world.admin.user, "luc") == ["Ana-Lucía O'Brien"]
    assert _found(world.admin.user, "o'brien") == ["Ana-Lucía O'Brien"]
    assert _found(world.admin.user, "bri") == ["Ana-Lucía O'Brien"]
    assert _found(world.admin.user, "arc") == []  # inside a word is not its start


def test_the_staff_search_finds_no_one_in_another_organization(world: World):
    new_lead(study_site=world.study_site_b, person__first_name="Linda",
             person__last_name="Martinez")  # fmt: skip

    for text in ("mart", "lin", "lin mar", "Linda Martinez"):
        assert _found(world.admin.user, text) == [], text
    assert _found(world.outsider.user, "lin mar") == ["Linda Martinez"]


@pytest.mark.parametrize("text", ["%%", "_a", "m%", "\\", "%_%", "' or 1=1 --", ",,", ", ;"])
def test_like_wildcards_and_separators_in_a_search_match_no_one(world: World, ana: Lead, text: str):
    assert _found(world.admin.user, text) == []


@pytest.mark.parametrize("text", ["mart", "garc", "lin mar", "maria jose gonzalez p"])
def test_the_name_search_reads_the_name_words_index_not_the_table(world: World, text: str):
    rows = [
        Person(organization=world.org_a, first_name=f"First{n}",
               last_name=f"Last{n % 997} Second{n % 13}", date_of_birth=None)
        for n in range(5_000)
    ]  # fmt: skip
    Person.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_person")
        people = Person.objects.filter(
            selectors._search_q(text, F), organization_id=world.org_a.pk
        ).values("id")
        sql, params = people.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # A bitmap scan of the GIN index on the folded name words; the organization is checked on
    # the few rows it finds.
    assert "Bitmap Index Scan on person_name_words" in plan, plan
    assert "Seq Scan" not in plan, plan


# Saved views -------------------------------------------------------------------------------


def _names(response) -> list[str]:
    return re.findall(r'<span class="chip"><a href="[^"]*">([^<]+)</a>', response.content.decode())


def test_a_member_saves_a_view_and_lands_on_it(world: World):
    client = signed_in(world.coordinator.user)

    response = client.post(
        reverse("saved_view_create"), {"name": "My referrals", "query": "tab=new&source=web_form"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/queue/?tab=new&source=web_form"
    view = SavedView.objects.get()
    assert (view.owner, view.shared, view.organization) == (world.coordinator, False, world.org_a)
    assert _names(queue(client)) == ["My referrals"]


def test_a_view_without_a_name_is_not_saved(world: World):
    client = signed_in(world.coordinator.user)

    response = client.post(
        reverse("saved_view_create"), {"name": "  ", "query": "tab=new"}, follow=True
    )

    assert "Name the view to save it." in response.content.decode()
    assert not SavedView.objects.exists()


def test_a_private_view_is_its_owners_and_a_shared_view_is_everyones(world: World):
    saved_view_create(
        membership=world.coordinator,
        name="Private",
        query="tab=new",
        shared=False,
        actor=actor_of(world),
    )
    saved_view_create(
        membership=world.coordinator,
        name="Team",
        query="tab=due",
        shared=True,
        actor=actor_of(world),
    )

    assert _names(queue(signed_in(world.coordinator.user))) == ["Private", "Team"]
    assert _names(queue(signed_in(world.site_lead.user))) == ["Team"]
    assert _names(queue(signed_in(world.outsider.user))) == []


def test_only_the_owner_may_delete_a_view_even_a_shared_one(world: World):
    view = saved_view_create(
        membership=world.coordinator,
        name="Team",
        query="tab=due",
        shared=True,
        actor=actor_of(world),
    )
    url = reverse("saved_view_delete", kwargs={"code": view.code})

    assert signed_in(world.site_lead.user).post(url).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()

    response = signed_in(world.coordinator.user).post(url)

    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("field", ["name", "query"])
def test_a_view_with_a_nul_character_is_no_error(world: World, field: str):
    # BUG (leads/views.py saved_view_create): name and query come straight from request.POST
    # into a CharField; PostgreSQL refuses NUL bytes with a DataError -> 500.
    data = {"name": "Mine", "query": "tab=new", field: "x\x00y"}

    response = signed_in(world.coordinator.user).post(reverse("saved_view_create"), data)

    assert response.status_code in (200, 302)


# Bulk actions ------------------------------------------------------------------------------


def _bulk(client: Client, leads: list[Lead], **data: str):
    """A bulk change as confirmed (the confirmation itself: tests/leads/test_bulk_undo.py)."""
    return client.post(
        reverse("queue_bulk"),
        {
            "leads": [str(lead.code) for lead in leads],
            "next": "/queue/?tab=open",
            "confirmed": "1",
            **data,
        },
        follow=True,
    )


def test_bulk_assign_gives_the_selected_leads_to_one_owner(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(3)]

    response = _bulk(
        signed_in(world.site_lead.user), leads[:2], action="assign", owner=str(world.site_lead.code)
    )

    assert response.redirect_chain == [("/queue/?tab=open", 302)]
    assert "2 of 2 leads updated." in response.content.decode()
    assert [fresh(lead).owner for lead in leads] == [
        world.site_lead,
        world.site_lead,
        world.coordinator,
    ]


def test_bulk_set_next_action(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(2)]

    _bulk(
        signed_in(world.site_lead.user),
        leads,
        action="next_action",
        kind=ActionKind.CHASE_RECORDS,
        due_at="2025-06-05T09:30",
    )

    for lead in leads:
        lead = fresh(lead)
        assert lead.next_action == ActionKind.CHASE_RECORDS
        assert lead.next_action_due_at is not None
        assert lead.next_action_due_at.date().isoformat() == "2025-06-05"


def test_bulk_next_action_times_are_read_on_the_sites_clock_like_the_single_lead_form(
    world: World,
):
    # BUG (leads/views.py queue_bulk / leads/forms.py BulkForm.due_at): the bulk form reads
    # "09:30" in settings.TIME_ZONE (UTC) while the lead's own next-action form reads it in the
    # site's time zone; the same words set two different due times (04:30 vs 09:30 in Chicago).
    lead = new_lead(study_site=world.study_site_a)

    _bulk(
        signed_in(world.site_lead.user),
        [lead],
        action="next_action",
        kind=ActionKind.CALLBACK,
        due_at="2025-06-05T09:30",
    )

    due = fresh(lead).next_action_due_at
    assert due is not None
    # 09:30 in Chicago (CDT) is 14:30 UTC.
    assert due.isoformat() == "2025-06-05T14:30:00+00:00"


def test_bulk_close_with_a_reason(world: World):
    leads = [new_lead(study_site=world.study_site_a) for _ in range(2)]

    _bulk(
        signed_in(world.site_lead.user), leads, action="close", close_reason=CloseReason.DUPLICATE
    )

    assert {(fresh(lead).status, fresh(lead).close_reason) for lead in leads} == {
        (Status.CLOSED, CloseReason.DUPLICATE)
    }


def test_bulk_close_without_a_reason_changes_nothing_and_says_why(world: World):
    lead = new_lead(study_site=world.study_site_a)

    response = _bulk(signed_in(world.site_lead.user), [lead], action="close")

    assert "Say why the leads are closed." in response.content.decode()
    assert fresh(lead).status == Status.NEW


def test_bulk_reports_each_lead_it_could_not_change(world: World):
    closed = lead_change_status(
        lead=new_lead(study_site=world.study_site_a, person__first_name="Zoe"),
        status=Status.CLOSED,
        close_reason=CloseReason.DUPLICATE,
        actor=actor_of(world),
    )
    open_ = new_lead(study_site=world.study_site_a)

    response = _bulk(
        signed_in(world.site_lead.user),
        [closed, open_],
        action="close",
        close_reason=CloseReason.NOT_INTERESTED,
    )

    body = html.unescape(response.content.decode())
    assert "1 of 2 leads updated." in body
    assert "Zoe" in body
    assert "cannot move to" in body
    assert fresh(closed).close_reason == CloseReason.DUPLICATE


def test_bulk_without_a_selection_says_so(world: World):
    response = signed_in(world.site_lead.user).post(
        reverse("queue_bulk"), {"action": "close", "close_reason": "duplicate"}, follow=True
    )

    assert "Select leads." in response.content.decode()


# Inline actions in the queue -----------------------------------------------------------------


def _act(
    client: Client,
    lead: Lead,
    action: str,
    data: dict[str, str],
    headers: dict[str, str] | None = None,
):
    url = reverse("lead_action", kwargs={"code": lead.code, "action": action})
    return client.post(
        url, {"in": "queue", "version": str(fresh(lead).version), **data}, headers=headers
    )


def test_an_htmx_action_in_the_queue_answers_the_updated_row(world: World, lead: Lead):
    with time_machine.travel(T, tick=False):
        response = _act(
            signed_in(world.coordinator.user),
            lead,
            "attempt",
            {"channel": "phone", "outcome": "no_answer", "direction": "outbound"},
            headers=HTMX,
        )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert rows(response) == [str(lead.code)]
    assert "Log a contact attempt: saved." in body
    assert "follow-up attempt due in 24 h" in html.unescape(body)
    assert json.loads(response["HX-Trigger"]) == {"lead-changed": {}}
    assert fresh(lead).attempts == 1


def test_an_htmx_action_form_opens_in_the_rows_panel(world: World, lead: Lead):
    url = reverse("lead_action", kwargs={"code": lead.code, "action": "next_action"})

    response = signed_in(world.coordinator.user).get(f"{url}?in=queue", headers=HTMX)

    body = response.content.decode()
    assert "<html" not in body
    assert f'hx-target="#lead-{lead.code}"' in body
    assert 'name="in" value="queue"' in body


def test_a_validation_error_in_an_htmx_request_is_retargeted_to_the_rows_panel(
    world: World, lead: Lead
):
    response = _act(
        signed_in(world.coordinator.user),
        lead,
        "status",
        {"status": Status.CLOSED, "close_reason": ""},
        headers=HTMX,
    )

    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert response["HX-Retarget"] == f"#panel-{lead.code}"
    assert response["HX-Reswap"] == "innerHTML"
    assert "Say why the lead is closed." in response.content.decode()
    assert fresh(lead).status == Status.NEW


def test_an_inline_action_without_javascript_saves_and_returns_to_the_queue(
    world: World, lead: Lead
):
    client = signed_in(world.coordinator.user)
    url = reverse("lead_action", kwargs={"code": lead.code, "action": "snooze"})
    form = client.get(f"{url}?in=queue")
    assert form.status_code == 200
    assert "<html" in form.content.decode()

    response = _act(client, lead, "snooze", {"until": "2027-06-05T09:30"})

    assert response.status_code == 302
    assert response["Location"] == reverse("queue")
    assert fresh(lead).snoozed_until is not None
    assert fresh(lead).snoozed_until.year == 2027  # type: ignore[union-attr]


def test_every_inline_action_of_a_row_has_a_plain_link_back_to_the_same_queue_page(
    world: World, lead: Lead
):
    query = f"tab=open&owner=me&site={world.site_a.code}"
    body = signed_in(world.coordinator.user).get(f"{reverse('queue')}?{query}").content
    back = urlencode({"next": f"{reverse('queue')}?{query}"})

    for action in ("attempt", "next_action", "note", "status", "assign", "snooze"):
        url = reverse("lead_action", kwargs={"code": lead.code, "action": action})
        assert f'href="{url}?in=queue&amp;{back}"'.encode() in body


def test_an_action_saved_without_javascript_returns_to_the_queue_page_it_came_from(
    world: World, lead: Lead
):
    client = signed_in(world.coordinator.user)
    back = f"{reverse('queue')}?tab=open&owner=me"
    url = reverse("lead_action", kwargs={"code": lead.code, "action": "note"})
    form = client.get(url, {"in": "queue", "next": back}).content.decode()
    assert f'name="next" value="{html.escape(back)}"' in form

    response = _act(client, lead, "note", {"text": "Prefers mornings", "next": back})

    assert (response.status_code, response["Location"]) == (302, back)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("snooze", {"until": "9999-12-31T23:59"}),
        ("next_action", {"kind": "callback", "due_at": "9999-12-31T23:59"}),
        (
            "attempt",
            {
                "channel": "phone",
                "outcome": "call_back_later",
                "direction": "outbound",
                "callback_at": "9999-12-31T23:59",
            },
        ),
    ],
)
def test_a_time_beyond_year_9999_in_utc_is_a_clear_error_and_breaks_nothing(
    world: World, lead: Lead, action: str, data: dict[str, str]
):
    # BUG (leads/forms.py LocalDateTimeField): 9999-12-31 23:59 in Chicago is year 10000 in UTC.
    # The form accepts it, PostgreSQL stores it, and reading the row back fails (DataError): the
    # action answers 500 and from then on the lead page and the queue tabs that list the lead
    # answer 500 for everyone.
    client = signed_in(world.coordinator.user)
    client.raise_request_exception = False

    response = _act(client, lead, action, data)
    later = client.get(reverse("queue"), {"tab": "open"})

    assert (response.status_code, later.status_code) == (422, 200)


def test_a_note_from_the_queue_adds_to_the_timeline(world: World, lead: Lead):
    response = _act(
        signed_in(world.coordinator.user), lead, "note", {"text": "Asked for a Spanish speaker"}
    )

    assert response.status_code == 302
    assert lead.activities.filter(kind=ActivityKind.NOTE).get().text == (
        "Asked for a Spanish speaker"
    )


def test_a_new_coordinator_sees_an_empty_due_now_tab(world: World):
    newcomer = MembershipFactory(organization=world.org_a, role=Role.COORDINATOR)
    newcomer.restricted_study_sites.set([world.study_site_a2])
    new_lead(study_site=world.study_site_a)

    response = queue(signed_in(newcomer.user))

    assert rows(response) == []
    assert "Nobody needs attention right now." in response.content.decode()

"""Prescreens for the benchmark data, and the `prescreen_submit` scenario.

Every StudySite gets a published six-question questionnaire; about a third of the leads get a
prescreen that agrees with their status: in progress while prescreening, needs review, likely
fit once past it (records, scheduling, handed off), not a fit when closed as not a fit.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, Status
from prescreen.models import (
    PrescreenResponse,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Rule,
    VersionStatus,
)
from prescreen.services.responses import response_confirm, response_save
from trialsnest.audit.services import Actor
from trialsnest.bench.measure import Result, percentile
from trialsnest.bench.pages import sites_by_size, total_leads
from trialsnest.bench.rows import Made
from trialsnest.lib.db import copy_rows

SHARE = 0.67  # of the leads whose status says they were prescreened: about a third of all
# (kind, text, choices, [(effect, operator, value)])
QUESTIONS: list[tuple[str, str, list[str], list[tuple[str, str, str]]]] = [
    ("number", "How old are you?", [], [("knockout", "below", "18"), ("knockout", "above", "80")]),
    ("yes_no", "Have you been diagnosed with the condition?", [], [("review", "is", "no")]),
    ("yes_no", "Are you pregnant or breastfeeding?", [], [("knockout", "is", "yes")]),
    ("single", "How did you hear about the study?", ["Doctor", "Advert", "Friend"], []),
    ("date", "When was your last treatment?", [], []),
    ("text", "Which medicines do you take?", [], []),
]
LIKELY_FIT = ["52", "yes", "no", "Doctor", "2025-03-01", "Metformin"]
RESPONSE_COLUMNS = [
    "id", "code", "organization_id", "lead_id", "version_id", "channel", "status",
    "computed_outcome", "fired", "outcome", "override_reason", "started_at", "updated_at",
    "submitted_at", "confirmed_at", "review_outcome", "review_note",
]  # fmt: skip
ANSWER_COLUMNS = ["response_id", "question_id", "value"]
PAST_PRESCREEN = (
    Status.RECORDS_PENDING,
    Status.RECORDS_READY,
    Status.VISIT_SCHEDULED,
    Status.HANDED_OFF,
)


def _questionnaires(study_sites: list[Any], now: datetime) -> dict[int, tuple[int, list[int]]]:
    """A published version per StudySite: {study_site id: (version id, question ids)}."""
    threads = Questionnaire.objects.bulk_create(
        Questionnaire(organization_id=ss.organization_id, study_site_id=ss.pk) for ss in study_sites
    )
    versions = QuestionnaireVersion.objects.bulk_create(
        QuestionnaireVersion(
            organization_id=t.organization_id,
            questionnaire=t,
            number=1,
            status=VersionStatus.PUBLISHED,
            published_at=now - timedelta(days=800),
            origin="benchmark data",
        )
        for t in threads
    )
    questions = Question.objects.bulk_create(
        Question(version=v, order=i, kind=kind, text=text, choices=choices, public=i < 2)
        for v in versions
        for i, (kind, text, choices, _) in enumerate(QUESTIONS, start=1)
    )
    Rule.objects.bulk_create(
        Rule(question=q, effect=effect, operator=operator, value=value)
        for q in questions
        for effect, operator, value in QUESTIONS[q.order - 1][3]
    )
    per_version: dict[int, list[int]] = {}
    for q in questions:
        per_version.setdefault(q.version_id, []).append(q.pk)
    return {
        t.study_site_id: (v.pk, per_version[v.pk]) for t, v in zip(threads, versions, strict=True)
    }


def _fired(question_id: int, effect: str, why: str) -> str:
    text = QUESTIONS[0][1] if effect == "knockout" else QUESTIONS[1][1]
    entry = {"rule": "", "question": str(question_id), "text": text, "effect": effect, "why": why}
    return json.dumps([entry])


def generate_prescreens(
    rng: random.Random,
    made: dict[str, Any],
    leads: list[Made],
    say: Callable[[str], None],
) -> None:
    now = timezone.now()
    study_sites = [ss for group in made["study_sites"].values() for ss in group]
    asked = _questionnaires(study_sites, now)
    responses: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    next_id = 1 + (
        PrescreenResponse.objects.order_by("-id").values_list("id", flat=True).first() or 0
    )
    for row in leads:
        lead_id, org_id, study_site_id, status, close_reason, moved = (
            row.id, row.organization_id, row.study_site_id, row.status, row.close_reason,
            row.moved_at,
        )  # fmt: skip
        prescreened = status in (Status.PRESCREENING, Status.NEEDS_REVIEW, *PAST_PRESCREEN)
        if not (prescreened or close_reason == "not_a_fit") or rng.random() > SHARE:
            continue
        version_id, question_ids = asked[study_site_id]
        values = list(LIKELY_FIT)
        state, outcome, fired = "confirmed", "likely_fit", "[]"
        if status == Status.PRESCREENING:
            state, outcome, values = "in_progress", "", values[:3]
        elif status == Status.NEEDS_REVIEW:
            values[1], outcome = "no", "needs_review"
            fired = _fired(question_ids[1], "review", "answer is “no”")
        elif status == Status.CLOSED:
            values[0], outcome = "16", "not_a_fit"
            fired = _fired(question_ids[0], "knockout", "answer is below “18”")
        started = moved - timedelta(minutes=rng.randint(5, 60))
        done = moved if state == "confirmed" else None
        responses.append((
            next_id, uuid.uuid4(), org_id, lead_id, version_id, "coordinator", state, outcome,
            fired, outcome, "", started, moved, done, done, "", "",
        ))  # fmt: skip
        answers += [
            (next_id, qid, json.dumps(value))
            for qid, value in zip(question_ids, values, strict=False)
        ]
        next_id += 1
    copy_rows("prescreen_prescreenresponse", RESPONSE_COLUMNS, iter(responses))
    copy_rows("prescreen_answer", ANSWER_COLUMNS, iter(answers))
    with connection.cursor() as cursor:  # the responses' ids were ours: move the sequence on
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('prescreen_prescreenresponse', 'id'), "
            "greatest((SELECT coalesce(max(id), 0) FROM prescreen_prescreenresponse), 1))"
        )
    say(f"{len(asked)} questionnaires, {len(responses)} prescreens, {len(answers)} answers")


# The scenario ---------------------------------------------------------------------------------


def _leads_to_prescreen(site_id: int, n: int) -> Iterator[Lead]:
    """Contacting leads of the site with a published questionnaire and no prescreen yet."""
    started = PrescreenResponse.objects.filter(lead_id=OuterRef("pk"))
    return iter(
        Lead.objects.filter(study_site__site_id=site_id, status=Status.CONTACTING)
        .filter(~Exists(started))
        .select_related("study_site")
        .order_by("id")[:n]
    )


def _submit(lead: Lead, answers: dict[str, str]) -> None:
    response = response_save(lead=lead, answers=answers, actor=Actor(None), submit=True)
    response_confirm(
        response=response, outcome=response.computed_outcome, reason="", actor=Actor(None)
    )


def prescreen_submit(runs: int) -> list[Result]:
    """A coordinator submits a complete prescreen and confirms it: score, save the answers and
    the response, move the lead to records (in process, through the services)."""
    total = total_leads()
    site_id = sites_by_size()[0][0]
    timings: list[float] = []
    queries = 0
    for lead in _leads_to_prescreen(site_id, max(1, runs) + 1):
        version = QuestionnaireVersion.objects.get(
            questionnaire__study_site_id=lead.study_site_id, status=VersionStatus.PUBLISHED
        )
        codes = [str(c) for c in version.questions.values_list("code", flat=True)]
        answers = dict(zip(codes, LIKELY_FIT, strict=False))
        if len(timings) == runs:
            # The last submission counts the queries, untimed: the capture's debug cursor
            # formats every statement, which the timed ones should not pay for.
            with CaptureQueriesContext(connection) as captured:
                _submit(lead, answers)
            queries = len(captured)
            break
        begun = time.perf_counter()
        _submit(lead, answers)
        timings.append((time.perf_counter() - begun) * 1000)
    assert timings, "no contacting lead to prescreen: run generate_data"
    return [
        Result(
            scenario="prescreen_submit",
            leads=total,
            p50_ms=round(statistics.median(timings), 2),
            p95_ms=round(percentile(timings, 95), 2),
            p99_ms=round(percentile(timings, 99), 2),
            queries=queries,
        )
    ]

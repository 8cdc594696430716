"""Everything TrialsNest holds about one person, for the person's own copy (a right of access):
their details and consent, each lead with its timeline, their web forms, opt-outs and messages,
and what the other apps keep (prescreens, records, visits) through `person_exported`."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from leads.models import Activity, Lead, OptOut, Person, Submission
from leads.outreach.models import InboundMessage, OutboundMessage
from leads.signals import person_exported

PERSON_FIELDS = (
    "first_name", "last_name", "phone", "email", "date_of_birth", "postal_code",
    "preferred_channel", "preferred_time", "preferred_language", "consent_phone", "consent_sms",
    "consent_email", "consent_text_version", "consent_given_at", "created_at",
)  # fmt: skip


def person_export(person: Person) -> dict[str, Any]:
    leads = Lead.objects.filter(person=person)
    sections: list[tuple[str, Any]] = [
        ("Leads", list(leads.annotate(
            study=F("study_site__study__brief_title"), site=F("study_site__site__name"),
        ).values(
            "code", "study", "site", "source", "campaign", "status", "close_reason",
            "received_at", "next_action", "next_action_due_at",
        ).order_by("received_at"))),
        ("Timeline", list(Activity.objects.filter(lead__person=person).annotate(
            lead_code=F("lead__code"),
        ).values(
            "lead_code", "at", "kind", "channel", "direction", "outcome", "text",
        ).order_by("at", "id"))),
        ("Web forms", list(Submission.objects.filter(lead__person=person).values(
            "received_at", "channel", "payload",
        ).order_by("received_at"))),
        ("Opt-outs", list(OptOut.objects.filter(person=person).values(
            "channel", "at", "evidence", "lifted_at", "lifted_evidence",
        ).order_by("at"))),
        ("Messages sent", list(OutboundMessage.objects.filter(person=person).values(
            "created_at", "channel", "to", "subject", "body", "status",
        ).order_by("created_at"))),
        ("Messages received", list(InboundMessage.objects.filter(person=person).values(
            "received_at", "channel", "from_number", "body",
        ).order_by("received_at"))),
    ]  # fmt: skip
    answers: list[tuple[Any, Any]] = person_exported.send(sender=Person, person=person)
    sections += [answer for _receiver, answer in answers if answer is not None]
    details = {name: getattr(person, name) for name in PERSON_FIELDS}
    return {
        "person": {"id": str(person.code), **details},
        "sections": [{"title": title, "rows": rows} for title, rows in sections],
    }

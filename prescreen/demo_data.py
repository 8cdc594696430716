"""The demo's prescreens: each StudySite has a published questionnaire written as a site lead
would write one (the study's own age limits, plain questions, Spanish for the public ones)."""

from __future__ import annotations

from prescreen.drafting import age_in_years
from prescreen.models import QuestionKind, RuleEffect, VersionStatus
from prescreen.services.questionnaires import (
    question_save,
    questionnaire_of,
    rule_add,
    version_draft,
    version_publish,
)
from trialsnest.audit.services import Actor
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.models import Organization


def seed_prescreen(study_site: StudySite, actor: Actor) -> None:
    if questionnaire_of(study_site).versions.filter(status=VersionStatus.PUBLISHED).exists():
        return
    study = study_site.study
    condition = study.conditions[0] if study.conditions else "the condition this study is about"
    version = version_draft(study_site=study_site, actor=actor, origin="demo data")
    age = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.NUMBER,
        text="How old are you?",
        text_es="¿Cuántos años tiene?",
        unit="years",
        min_value=0,
        max_value=120,
        public=True,
    )
    for operator, limit in (("below", study.minimum_age), ("above", study.maximum_age)):
        years = age_in_years(limit)
        if years is not None:
            rule_add(
                question=age,
                effect=RuleEffect.KNOCKOUT,
                operator=operator,
                value=f"{years:f}",
                actor=actor,
            )
    diagnosed = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.YES_NO,
        text=f"Has a doctor told you that you have {condition}?",
        text_es=f"¿Le ha dicho un médico que tiene {condition}?",
        public=True,
    )
    rule_add(question=diagnosed, effect=RuleEffect.REVIEW, operator="is", value="no", actor=actor)
    treatment = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.DATE,
        text="When did your most recent treatment end?",
        help_text="Leave it empty if you have not been treated.",
        required=False,
    )
    rule_add(
        question=treatment,
        effect=RuleEffect.REVIEW,
        operator="after",
        value="2026-01-01",
        actor=actor,
    )
    trial = question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.YES_NO,
        text="Are you taking part in another research study now?",
    )
    rule_add(question=trial, effect=RuleEffect.REVIEW, operator="is", value="yes", actor=actor)
    question_save(
        version=version,
        actor=actor,
        kind=QuestionKind.MULTIPLE,
        text="Which of these can you manage for study visits?",
        choices=["Weekday mornings", "Weekday afternoons", "Saturdays"],
        required=False,
    )
    version_publish(version=version, actor=actor)


def seed_prescreens(organization: Organization) -> None:
    actor = Actor(user=None)
    study_sites = StudySite.objects.filter(organization=organization).select_related("study")
    for study_site in study_sites:
        seed_prescreen(study_site, actor)

"""The prescreen's part of a StudySite's launch checklist (trialsnest/studies/readiness.py)."""

from __future__ import annotations

from django.urls import reverse

from prescreen.models import QuestionnaireVersion, VersionStatus
from trialsnest.studies.models import StudySite
from trialsnest.studies.readiness import Item, readiness_check


@readiness_check("prescreen", order=40)
def prescreen(study_site: StudySite) -> Item:
    published = (
        QuestionnaireVersion.objects.filter(
            questionnaire__study_site=study_site, status=VersionStatus.PUBLISHED
        )
        .values_list("number", flat=True)
        .first()
    )
    return Item(
        label="A published prescreen",
        done=published is not None,
        detail=f"Version {published} is what coordinators ask"
        if published is not None
        else "No version is published: coordinators would have no questions to ask",
        fix_url=reverse("prescreen_builder", kwargs={"code": study_site.code}),
        fix_label="Build and publish the prescreen",
    )

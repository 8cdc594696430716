"""Sponsor updates: a site lead drafts one from the sponsor's own aggregates, and releases it
once its sentences hold no patient detail (reporting/patient_detail.py). Released updates are
numbered versions, each with the suppressed figures of the day it was released."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reporting.models import SponsorUpdate, UpdateStatus
from reporting.patient_detail import findings
from reporting.sponsor import Table, sponsor_report
from reporting.suppression import HIDDEN
from trialsnest.audit.services import Actor, audit_record
from trialsnest.lib.text import NOTE_MAX
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import sponsor_study_sites
from trialsnest.tenancy.selectors import report_viewers

TEXTS = ("moved", "stalled", "decisions", "next_steps")
TEXT_MAX = NOTE_MAX


def update_figures(study_site: StudySite, today: date | None = None) -> list[dict[str, Any]]:
    """This StudySite's rows of the sponsor's report (funnel, progress to target), as every
    viewer it is shared with sees them in their own report of the study: a cell hidden for any
    of them is hidden here. A site's row suppressed on its own, next to the all-sites total of a
    viewer's report, would give another site's hidden count away; the weekly trend, which the
    report has for all sites together only, stays out for the same reason."""
    today = today or timezone.localdate()
    reports = []
    for viewer in report_viewers(study_site):
        shared = sponsor_study_sites(viewer).filter(study_id=study_site.study_id)
        sites = list(shared.select_related("site", "study").order_by("site__name", "pk"))
        reports.append((sponsor_report(study_sites=sites, today=today), sites.index(study_site)))
    if not reports:  # nobody to read it yet: as a report of this StudySite alone
        reports = [(sponsor_report(study_sites=[study_site], today=today), 0)]
    figures = []
    for name in ("sites", "progress"):
        rows = [getattr(report, name).rows[i][1] for report, i in reports]
        cells = [_agreed(column) for column in zip(*rows, strict=True)]
        table: Table = getattr(reports[0][0], name)
        title = "Funnel at this site" if name == "sites" else table.title
        figures.append(asdict(Table(title, table.columns, [(study_site.site.name, cells)])))
    return figures


def _agreed(cells: tuple[str, ...]) -> str:
    if len(set(cells)) == 1:
        return cells[0]
    return HIDDEN if HIDDEN in cells else "—"


def _check(study_site: StudySite, texts: dict[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    for name in TEXTS:
        text = texts.get(name, "")
        if len(text) > TEXT_MAX:
            errors[name] = [f"Keep it within {TEXT_MAX:,} characters."]
            continue
        reasons = findings(text, organization_id=study_site.organization_id)
        if reasons:
            errors[name] = [
                "Sponsors never see patient detail. Reword without "
                + "; ".join(dict.fromkeys(reasons))
                + "."
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_save(
    *, study_site: StudySite, actor: Actor, update: SponsorUpdate | None = None, **texts: str
) -> SponsorUpdate:
    """Create or change a draft. Drafts are checked too: patient detail is never kept where a
    release is one click away."""
    texts = {name: str(texts.get(name, "")).strip() for name in TEXTS}
    _check(study_site, texts)
    if update is None:
        update = SponsorUpdate(
            organization_id=study_site.organization_id,
            study_site=study_site,
            created_by=actor.user,
        )
    else:
        update = SponsorUpdate.objects.select_for_update().get(pk=update.pk)
        if update.status != UpdateStatus.DRAFT:
            raise ValidationError("A released update is kept as it was released.")
    for name, value in texts.items():
        setattr(update, name, value)
    update.save()
    audit_record(
        action="sponsor_update.saved",
        actor=actor.user,
        organization_id=study_site.organization_id,
        obj=update,
        request=actor.request,
    )
    return update


@transaction.atomic
def update_release(*, update: SponsorUpdate, actor: Actor) -> SponsorUpdate:
    """Number it, keep today's figures with it and show it to the sponsor's viewers."""
    update = (
        SponsorUpdate.objects.select_for_update().select_related("study_site").get(pk=update.pk)
    )
    if update.status == UpdateStatus.RELEASED:
        return update
    study_site = update.study_site
    texts = {name: getattr(update, name) for name in TEXTS}
    if not any(texts.values()):
        raise ValidationError("Write at least one part of the update before releasing it.")
    _check(study_site, texts)
    # Serialized per StudySite by the lock on the StudySite's row: numbers never collide.
    StudySite.objects.select_for_update().filter(pk=study_site.pk).first()
    last = SponsorUpdate.objects.filter(study_site=study_site).aggregate(n=Max("number"))["n"]
    update.number = (last or 0) + 1
    update.status = UpdateStatus.RELEASED
    update.figures = update_figures(study_site)
    update.released_by = actor.user
    update.released_at = timezone.now()
    update.save()
    audit_record(
        action="sponsor_update.released",
        actor=actor.user,
        organization_id=study_site.organization_id,
        obj=update,
        changes={"number": {"old": None, "new": update.number}},
        request=actor.request,
    )
    return update

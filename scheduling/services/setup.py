"""The site lead's scheduling settings: resources, weekly hours, closures, the site calendar
and visit types. Each write is atomic and audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from scheduling.models import Closure, Resource, SiteCalendar, VisitType, WeeklyHours
from trialsnest.audit.services import Actor, audit_record


def _record(obj: models.Model, action: str, actor: Actor, organization_id: int) -> None:
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=organization_id,
        obj=obj,
        changes={
            f.name: {"new": str(getattr(obj, f.attname))}
            for f in obj._meta.concrete_fields
            if not f.primary_key
        },
        request=actor.request,
    )


@transaction.atomic
def setting_save[M: (Resource, WeeklyHours, Closure, SiteCalendar)](*, obj: M, actor: Actor) -> M:
    """Save a resource, opening window, closure or site calendar of a site."""
    obj.organization_id = obj.site.organization_id
    obj.full_clean()
    created = obj.pk is None
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise ValidationError("That one exists already.") from error
    name = obj._meta.model_name
    _record(obj, f"{name}.{'created' if created else 'changed'}", actor, obj.organization_id)
    return obj


@transaction.atomic
def setting_remove(*, obj: WeeklyHours | Closure, actor: Actor) -> None:
    _record(obj, f"{obj._meta.model_name}.removed", actor, obj.organization_id)
    obj.delete()


@transaction.atomic
def visit_type_save(
    *, visit_type: VisitType, resources: Iterable[Resource], actor: Actor
) -> VisitType:
    resources = list(resources)
    site_id = visit_type.study_site.site_id
    if not resources or any(r.site_id != site_id for r in resources):
        raise ValidationError({"resources": "Pick rooms, people or devices of this site."})
    visit_type.organization_id = visit_type.study_site.organization_id
    created = visit_type.pk is None
    try:
        with transaction.atomic():
            visit_type.save()
    except IntegrityError as error:
        raise ValidationError({"name": "This study already has a visit type of that name."}) from (
            error
        )
    visit_type.resources.set(resources)
    action = "visit_type.created" if created else "visit_type.changed"
    _record(visit_type, action, actor, visit_type.organization_id)
    return visit_type

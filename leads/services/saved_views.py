"""Named queue filters, private to their owner or shared with the organization."""

from __future__ import annotations

from django.db import transaction

from leads.models import SavedView
from trialsnest.audit.services import Actor, audit_record
from trialsnest.tenancy.models import Membership


@transaction.atomic
def saved_view_create(
    *, membership: Membership, name: str, query: str, shared: bool, actor: Actor
) -> SavedView:
    view = SavedView.objects.create(
        organization_id=membership.organization_id,
        owner=membership,
        name=name,
        query=query,
        shared=shared,
    )
    audit_record(
        action="saved_view.created",
        actor=actor.user,
        organization_id=membership.organization_id,
        obj=view,
        changes={"name": {"old": None, "new": name}, "shared": {"old": None, "new": shared}},
        request=actor.request,
    )
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: Actor) -> None:
    audit_record(
        action="saved_view.deleted",
        actor=actor.user,
        organization_id=view.organization_id,
        obj=view,
        request=actor.request,
    )
    view.delete()

"""The weekly review's action items: made with a named owner, a due date and the measure to look
at again (its value kept as the baseline), shown on the owner's queue until done; the next week's
review opens with whether each was done and how its measure moved."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.queue_notes import QueueNote
from reporting.models import ActionItem, Review, ReviewMetric
from reporting.review import metric_values, week_of
from trialsnest.audit.services import Actor, audit_record
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import visible_study_site_ids

OWNER_ROLES = (Role.COORDINATOR, Role.SITE_LEAD, Role.ORG_ADMIN)


@transaction.atomic
def action_item_add(
    *,
    membership: Membership,
    owner: Membership,
    title: str,
    due_on: date,
    metric: str,
    actor: Actor,
) -> ActionItem:
    """An action of this week's review of the member's organization (the review is made with
    its first action)."""
    if actor.user is None:
        raise ValueError("A review's actions are made by a member.")
    title = " ".join(title.split())
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Say what is to be done."
    if owner.organization_id != membership.organization_id or not owner.is_active:
        errors["owner"] = "Pick an active member of this organization."
    if due_on < today:
        errors["due_on"] = "Pick today or a later day."
    if metric not in ReviewMetric.values:
        errors["metric"] = "Pick the measure to look at again."
    if errors:
        raise ValidationError(errors)
    review, _ = Review.objects.get_or_create(
        organization_id=membership.organization_id,
        week_start=week_of(today),
        defaults={"created_by": actor.user},
    )
    values = metric_values(
        organization_id=membership.organization_id,
        study_site_ids=visible_study_site_ids(membership),
        today=today,
    )
    item = ActionItem.objects.create(
        organization_id=membership.organization_id,
        review=review,
        owner=owner,
        title=title,
        due_on=due_on,
        metric=metric,
        baseline=values.get(metric),
    )
    audit_record(
        action="review.action_added",
        actor=actor.user,
        organization_id=membership.organization_id,
        obj=item,
        changes={"owner": {"old": None, "new": str(owner.code)}, "due_on": str(due_on)},
        request=actor.request,
    )
    if owner.user_id != actor.user.pk:  # an action one gives oneself is not news
        notify_many(
            [
                Notice(
                    organization_id=item.organization_id,
                    recipient_id=owner.pk,
                    kind=Kind.ACTION_ITEM,
                    key=f"action:{item.code}",
                    # Not the title: a notice's words carry no free text (DESIGN.md).
                    reason=f"The weekly review gave you an action, due {due_on:%a %d %b}",
                )
            ]
        )
    return item


@transaction.atomic
def action_item_done(*, item: ActionItem, actor: Actor) -> ActionItem:
    """Mark it done (once: doing it again changes nothing)."""
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.done_at is None:
        item.done_at, item.done_by = timezone.now(), actor.user
        item.save(update_fields=["done_at", "done_by"])
        audit_record(
            action="review.action_done",
            actor=actor.user,
            organization_id=item.organization_id,
            obj=item,
            request=actor.request,
        )
    return item


def open_actions_of(membership: Membership) -> list[QueueNote]:
    """The member's open action items, for their queue (one query)."""
    items = ActionItem.objects.filter(owner=membership, done_at__isnull=True).select_related(
        "review"
    )
    return [
        QueueNote(
            title=item.title,
            detail=f"Weekly review of {item.review.week_start:%d %b}",
            due_on=item.due_on,
            done_url=reverse("action_item_done", kwargs={"code": item.code}),
        )
        for item in items
    ]

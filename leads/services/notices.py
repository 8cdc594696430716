"""The bell's notices of a lead's owner, from the moments people cause: a lead reassigned to
them (one notice per lead, or one per bulk change) and a reply from the person. Reasons carry
no patient detail (a count, a channel, what the reply asks), and each notice has its key, so a
retry writes nothing more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from uuid import UUID

from leads.models import Lead
from trialsnest.audit.services import Actor
from trialsnest.notifications.models import Kind
from trialsnest.notifications.services import Notice, notify_many
from trialsnest.tenancy.models import Membership

REPLY_REASON = {
    "opt_out": "The person asked to stop messages on this channel",
    "maybe_stop": "A reply that may ask to stop: please review it",
    "help": "The person asked for help by text",
}


def _actor_member(actor: Actor, organization_id: int) -> int | None:
    """The acting member's id in this organization (None for the system or a visitor)."""
    member = getattr(actor.request, "membership", None)
    if member is not None and member.organization_id == organization_id:
        return int(member.pk)
    if actor.user is None:
        return None
    return (
        Membership.objects.filter(user=actor.user, organization_id=organization_id)
        .values_list("id", flat=True)
        .first()
    )


def notify_reassigned(lead: Lead, actor: Actor) -> None:
    """Tell the lead's new owner, unless they gave it to themselves."""
    if lead.owner_id is not None:
        moved = [(str(lead.code), 0, lead.owner_id)]
        notify_reassigned_many(moved, lead.organization_id, actor, f"{lead.code}:{lead.version}")


def notify_reassigned_many(
    moved: Sequence[tuple[str, int, int]],
    organization_id: int,
    actor: Actor,
    change: UUID | str,
    *,
    undo: bool = False,
) -> None:
    """One notice per new owner of a change ((lead code, old owner, new owner) each), keyed by
    the change: a bulk change's code, or a lead's code and version. `undo`: the owners are
    getting back the leads a bulk change had taken from them."""
    by_owner = Counter(new for _code, _old, new in moved)
    one = {new: code for code, _old, new in moved}
    mine = _actor_member(actor, organization_id)
    done = "given back to you (a reassignment was undone)" if undo else "reassigned to you"
    notify_many(
        Notice(
            organization_id=organization_id,
            recipient_id=owner,
            kind=Kind.REASSIGNED,
            key=f"reassigned:{change}:undo" if undo else f"reassigned:{change}",
            reason=f"A lead was {done}" if count == 1 else f"{count} leads were {done}",
            lead_code=one[owner] if count == 1 else None,
        )
        for owner, count in by_owner.items()
        if owner != mine
    )


def notify_reply(leads: Iterable[Lead], message_code: UUID, channel: str, intent: str) -> None:
    """Tell each lead's owner that the person wrote back."""
    notify_many(reply_notices(leads, message_code, channel, intent))


def reply_notices(
    leads: Iterable[Lead], message_code: UUID, channel: str, intent: str
) -> list[Notice]:
    """The notices `notify_reply` writes, for writing many replies' at once (notify_many)."""
    label = "text" if channel == "sms" else "e-mail"
    reason = REPLY_REASON.get(intent, f"The person replied by {label}")
    return [
        Notice(
            organization_id=lead.organization_id,
            recipient_id=lead.owner_id,
            kind=Kind.REPLY,
            key=f"reply:{message_code}:{lead.code}",
            reason=reason,
            lead_code=lead.code,
        )
        for lead in leads
        if lead.owner_id is not None and lead.is_open
    ]

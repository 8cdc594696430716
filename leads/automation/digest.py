"""The coordinator's morning digest: from 08:00 on a working day of their site (on their own
clock when they set one, else the site's; the site's business days; the organization's first
site for a member of every site), an e-mail with
how many of their leads are due and how many missed a target, and a link to the queue. Counts
only: no patient detail leaves by e-mail.

Claimed per member and local day (DigestClaim, unique) in the scan's transaction; the send is a
task enqueued after commit through the outbox. A claim still unsent after LEASE (its task was
lost, or the worker died mid-send) is sent again with the same Message-ID.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from leads.models import OPEN_Q, DigestClaim, Lead
from leads.selectors import tab_q
from trialsnest.ops.jobs import job_run
from trialsnest.ops.outbox import enqueue
from trialsnest.tenancy.models import Membership, Role
from trialsnest.tenancy.selectors import home_site

MORNING = time(8, 0)
LEASE = timedelta(minutes=10)
SEND_TASK = "leads.automation.tasks.send_digest"


def digest_day(member: Membership, now: datetime) -> str | None:
    """The member's local day (ISO) if their digest is due at `now`, else None."""
    site = home_site(member)
    if site is None:
        return None
    local = now.astimezone(zoneinfo.ZoneInfo(member.timezone or site.timezone))
    if local.isoweekday() not in site.business_days or local.time() < MORNING:
        return None
    if member.is_away(local.date()):
        return None  # held while they are out of office
    return local.date().isoformat()


def digests_claim(*, now: datetime | None = None) -> int:
    """Beat: claim today's digest of every coordinator whose morning came; returns how many
    were claimed now. Unsent claims past their lease are handed to a task again."""
    now = now or timezone.now()
    with job_run("digest") as counts:
        counts.touch("claimed")
        members = Membership.objects.filter(
            role=Role.COORDINATOR, is_active=True, pending=False
        ).prefetch_related("restricted_sites")
        for member in members:
            day = digest_day(member, now)
            if day is None:
                continue
            try:
                with transaction.atomic():
                    claim = DigestClaim.objects.create(membership=member, day=day, claimed_at=now)
                    enqueue(SEND_TASK, claim.pk)
            except IntegrityError:
                continue  # claimed before (this morning, or by another copy at this moment)
            counts.add("claimed", member.organization_id)
        for claim_id in DigestClaim.objects.filter(
            sent_at__isnull=True, claimed_at__lte=now - LEASE
        ).values_list("id", flat=True):
            enqueue(SEND_TASK, claim_id)
    return int(counts.total["claimed"])


def digest_send(*, claim_id: int) -> bool:
    """Send one claimed digest; True if sent now. Safe to run twice: a sent one is skipped."""
    with transaction.atomic():
        claim = (
            DigestClaim.objects.select_for_update(skip_locked=True)
            .select_related("membership__user", "membership__organization")
            .filter(pk=claim_id, sent_at__isnull=True)
            .first()
        )
        if claim is None:
            return False
        member = claim.membership
        now = timezone.now()
        mine = Lead.objects.filter(OPEN_Q, owner=member)
        context = {
            "member": member,
            "day": claim.day,
            "due": mine.filter(tab_q("due", now)).count(),
            "overdue": mine.filter(tab_q("overdue", now)).count(),
            "link": settings.SITE_URL.rstrip("/") + "/queue/" if settings.SITE_URL else "/queue/",
        }
        message = EmailMultiAlternatives(
            subject=render_to_string("leads/emails/digest_subject.txt", context).strip(),
            body=render_to_string("leads/emails/digest_body.txt", context),
            to=[member.user.email],
            headers={"Message-ID": f"<digest-{member.code}-{claim.day}@trialsnest>"},
        )
        message.attach_alternative(
            render_to_string("leads/emails/digest_body.html", context), "text/html"
        )
        message.send()
        claim.sent_at = timezone.now()
        claim.save(update_fields=["sent_at"])
    return True

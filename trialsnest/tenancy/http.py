"""The request as our views see it, once the middleware has run (a type for mypy only)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from trialsnest.accounts.models import User
from trialsnest.tenancy.models import Membership, SponsorMembership


class TenantRequest(HttpRequest):
    """Set by ActiveMembershipMiddleware and django-htmx's HtmxMiddleware."""

    user: User | AnonymousUser  # our user model, not the base class
    membership: Membership | None
    sponsor_membership: SponsorMembership | None
    has_other_organizations: bool
    pending_invitations: int
    two_factor_required: bool  # an organization of the user's requires a second factor
    htmx: HtmxDetails
    # Read by the audit receiver when a sign-out is ours (timeouts, removed access).
    logout_reason: str

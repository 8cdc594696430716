"""API keys: generated once, shown once, stored as a keyed hash, scoped, revocable.

A key reads `tn_<prefix>_<secret>`. The prefix (8 hex characters, shown in settings) finds the
row; the secret (32 random bytes) is checked against `hashed_key`, an HMAC-SHA256 of the secret
keyed with SECRET_KEY (and, while it is being rotated out, each of SECRET_KEY_FALLBACKS).

Why not a password hasher: PBKDF2/Argon2 are slow on purpose, to make guessing a *low-entropy*
password expensive. A 256-bit random secret cannot be guessed at any speed, so a slow hash would
buy nothing and cost tens to hundreds of milliseconds of CPU on every API request, and give
anyone holding a made-up key a cheap way to burn our CPU. The HMAC key keeps a leaked table
alone from being enough to test a key offline.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from leads.models import ApiKey, Source
from trialsnest.audit.services import Actor, audit_record, changed_fields
from trialsnest.tenancy.models import Organization

KEY_START = "tn_"
HASH_ALGORITHM = "hmac-sha256"
_PREFIX = re.compile(r"[0-9a-f]{8}")
# Writing last_used_at on every request would put a write on every read; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(secret: str, signing_key: str) -> str:
    mac = salted_hmac("trialsnest.api_key", secret, secret=signing_key, algorithm="sha256")
    return f"{HASH_ALGORITHM}${mac.hexdigest()}"


def _matches(api_key: ApiKey, secret: str) -> bool:
    signing_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(api_key.hashed_key, _digest(secret, signing_key))
        for signing_key in signing_keys
    )


def _new_prefix() -> str:
    while True:
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            return prefix


def _snapshot(api_key: ApiKey) -> dict[str, Any]:
    return {
        "name": api_key.name,
        "source": api_key.source,
        "referral_partner": api_key.referral_partner,
        "prefix": api_key.prefix,
        "revoked_at": api_key.revoked_at,
        "scopes": list(api_key.scopes),
    }


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    name: str,
    source: str,
    referral_partner: str = "",
    scopes: Sequence[str] = (ApiKey.Scope.INTAKE,),
    actor: Actor,
) -> tuple[ApiKey, str]:
    """A new key and its full text. The text is never stored: show it once. A key that sends
    no leads has no source of its own (the API's)."""
    name, referral_partner = name.strip(), referral_partner.strip()
    scopes = [scope for scope in ApiKey.Scope.values if scope in scopes]
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Name the key, e.g. after the partner and what it is for."
    if not scopes:
        errors["scopes"] = "Pick what the key may do."
    elif ApiKey.Scope.INTAKE not in scopes:
        source, referral_partner = Source.API, ""
    if source not in Source.values:
        errors["source"] = "Pick a source."
    elif source == Source.REFERRAL_PARTNER and not referral_partner:
        errors["referral_partner"] = "Name the referral partner this key belongs to."
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        source=source,
        referral_partner=referral_partner,
        scopes=scopes,
        prefix=_new_prefix(),
        hashed_key=_digest(secret, settings.SECRET_KEY),
        created_by=actor.user,
    )
    audit_record(
        action="api_key.created",
        actor=actor.user,
        organization=organization,
        obj=api_key,
        changes=changed_fields(old={}, new=_snapshot(api_key)),
        request=actor.request,
    )
    return api_key, f"{KEY_START}{api_key.prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Refuse the key from now on. Revoking a revoked key changes nothing."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    before = _snapshot(api_key)
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(
        action="api_key.revoked",
        actor=actor.user,
        organization_id=api_key.organization_id,
        obj=api_key,
        changes=changed_fields(old=before, new=_snapshot(api_key)),
        request=actor.request,
    )
    return api_key


def api_key_authenticate(token: str) -> ApiKey | None:
    """The live key this text is, or None (unknown, malformed, revoked or wrong secret)."""
    if not token.startswith(KEY_START):
        return None
    prefix, _, secret = token.removeprefix(KEY_START).partition("_")
    if not _PREFIX.fullmatch(prefix) or not secret:
        return None
    api_key = (
        ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)
        .select_related("organization")
        .first()
    )
    if api_key is None or not _matches(api_key, secret):
        return None
    return api_key


def api_key_mark_used(api_key: ApiKey, *, now: datetime | None = None) -> None:
    """Record the use, at most once per LAST_USED_RESOLUTION (one conditional UPDATE)."""
    now = now or timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > stale:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    api_key.last_used_at = now

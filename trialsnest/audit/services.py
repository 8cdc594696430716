"""Writing audit events. Call these inside the transaction of the change they record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from trialsnest.accounts.models import User
from trialsnest.audit.models import AuditEvent
from trialsnest.lib.client_ip import client_ip as visitor_ip
from trialsnest.lib.db import copy_rows
from trialsnest.tenancy.models import Organization


@dataclass(frozen=True)
class Actor:
    """Who does something, and from where: what every service passes on to the audit trail."""

    user: User | None
    request: HttpRequest | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Actor:
        """The signed-in user of a request (None for a visitor), with the request."""
        user = request.user
        return cls(user=user if isinstance(user, User) else None, request=request)


def changed_fields(
    *,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    phi: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """The fields that differ. PHI fields are named, their values never stored."""
    phi = set(phi)
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name in phi:
            changes[name] = {"phi": True}
        else:
            changes[name] = {"old": _jsonable(before), "new": _jsonable(after)}
    return changes


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(str(v) for v in value)
    return str(value)


def client_ip(request: HttpRequest | None) -> str | None:
    return None if request is None else visitor_ip(request)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    organization: Organization | None = None,
    organization_id: int | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(getattr(obj, "code", obj.pk))
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        organization_id=organization.pk if organization is not None else organization_id,
        object_type=object_type,
        object_id=object_id,
        changes=dict(changes or {}),
        reason=reason,
        ip=client_ip(request),
    )


AUDIT_COLUMNS = [
    "at", "actor_id", "organization_id", "action", "object_type", "object_id", "changes",
    "reason", "ip",
]  # fmt: skip


def audit_insert(select_sql: str) -> str:
    """SQL that appends one event per row of `select_sql`, whose columns are AUDIT_COLUMNS in
    order: for a set-based write that records its audit in its own statement (a CTE)."""
    return f"INSERT INTO audit_auditevent ({', '.join(AUDIT_COLUMNS)}) {select_sql}"


def audit_record_many(
    *,
    action: str,
    actor_id: int | None,
    organization_id: int,
    object_type: str,
    object_ids: Iterable[str],
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> int:
    """One event per object, the same change for each, written set-based with COPY.

    For bulk writes (a CSV import creates 100,000 leads at once): call it in their transaction.
    """
    now = timezone.now()
    payload = json.dumps(dict(changes or {}))
    return copy_rows(
        "audit_auditevent",
        AUDIT_COLUMNS,
        (
            (now, actor_id, organization_id, action, object_type, object_id, payload, reason, None)
            for object_id in object_ids
        ),
    )


def audit_record_each(
    *,
    action: str,
    actor_id: int | None,
    organization_id: int,
    object_type: str,
    changes: Iterable[tuple[str, Mapping[str, Any]]],
    reason: str = "",
) -> int:
    """One event per (object id, its change), written set-based with COPY: audit_record_many
    for changes that differ from object to object."""
    now = timezone.now()
    return copy_rows(
        "audit_auditevent",
        AUDIT_COLUMNS,
        (
            (now, actor_id, organization_id, action, object_type, object_id,
             json.dumps(dict(change)), reason, None)
            for object_id, change in changes
        ),
    )  # fmt: skip

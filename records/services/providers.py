"""The organization's directory of providers that hold patients' records."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from records.models import Provider
from trialsnest.audit.services import Actor, audit_record, changed_fields

PROVIDER_FIELDS = ("practice", "contact_name", "phone", "fax", "email", "portal_url", "notes")


def _snapshot(provider: Provider) -> dict[str, Any]:
    return {name: getattr(provider, name) for name in PROVIDER_FIELDS}


def _check(provider: Provider) -> None:
    if not any((provider.phone, provider.fax, provider.email, provider.portal_url)):
        raise ValidationError("Give at least one way to reach the provider.")
    provider.full_clean()


@transaction.atomic
def provider_create(*, organization_id: int, actor: Actor, **values: Any) -> Provider:
    provider = Provider(organization_id=organization_id)
    return _save(provider, values, actor, "provider.created", before={})


@transaction.atomic
def provider_update(*, provider: Provider, actor: Actor, **values: Any) -> Provider:
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    return _save(provider, values, actor, "provider.updated", before=_snapshot(provider))


def _save(
    provider: Provider, values: dict[str, Any], actor: Actor, action: str, before: dict[str, Any]
) -> Provider:
    for name, value in values.items():
        if name not in PROVIDER_FIELDS:
            raise TypeError(f"Not a provider field: {name}")
        setattr(provider, name, value.strip() if isinstance(value, str) else value)
    _check(provider)
    provider.save()
    audit_record(
        action=action,
        actor=actor.user,
        organization_id=provider.organization_id,
        obj=provider,
        changes=changed_fields(old=before, new=_snapshot(provider)),
        request=actor.request,
    )
    return provider

"""Who is asking, in one query: the signed-in user, their memberships with the organizations,
the unread count of each membership's bell, and the ids of their confirmed second-factor
devices, read together on every signed-in request.

Django would read the user, then django-otp the verifying device, then the membership
middleware the memberships: three queries before a view starts. Here the user's memberships
are read with the user joined (`select_related`), and the device ids and unread counts are
subqueries of the same statement. A user without memberships (a sponsor viewer) costs one more
query, for the user row alone.

The bell's poll therefore costs this one query and nothing else, and every page shows the
bell's count when it is drawn. The count is capped (the bell says 99+ past COUNT_CAP), so it
reads at most a hundred index entries.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.backends import ModelBackend
from django.db.models.expressions import RawSQL
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from trialsnest.accounts.models import User
from trialsnest.notifications.selectors import COUNT_CAP
from trialsnest.tenancy.models import Membership

_UNREAD = f"""(SELECT count(*) FROM (SELECT 1 FROM notifications_notification n
                WHERE n.recipient_id = tenancy_membership.id AND n.read_at IS NULL
                LIMIT {COUNT_CAP + 1}) AS unread)"""  # noqa: S608 (a constant, no input)
# The persistent ids django-otp keeps in the session ("<app>.<model>/<id>").
_DEVICES = """ARRAY(
    SELECT 'otp_totp.totpdevice/' || d.id FROM otp_totp_totpdevice d
    WHERE d.user_id = {user} AND d.confirmed
    UNION ALL
    SELECT 'otp_static.staticdevice/' || d.id FROM otp_static_staticdevice d
    WHERE d.user_id = {user} AND d.confirmed
    UNION ALL
    SELECT 'django_otp_webauthn.webauthncredential/' || d.id
    FROM django_otp_webauthn_webauthncredential d
    WHERE d.user_id = {user} AND d.confirmed)"""


def _principal(user_id: Any) -> User | None:
    memberships: list[Any] = list(
        Membership.objects.filter(user_id=user_id)
        .select_related("organization", "user")
        .annotate(
            unread=RawSQL(_UNREAD, ()),  # noqa: S611 (constant SQL)
            device_ids=RawSQL(_DEVICES.format(user="tenancy_membership.user_id"), ()),  # noqa: S611
        )
    )
    user: Any
    if memberships:
        user = memberships[0].user
        user.device_ids = memberships[0].device_ids
        for membership in memberships:
            membership.user = user  # one instance: a change to the user is seen through each
    else:
        user = (
            User.objects.filter(pk=user_id)
            .annotate(device_ids=RawSQL(_DEVICES.format(user="accounts_user.id"), ()))  # noqa: S611
            .first()
        )
        if user is None:
            return None
    user.loaded_memberships = memberships
    return cast(User, user)


class PrincipalBackend(ModelBackend):
    """Django's model backend (passwords, permissions), reading a session's user with
    everything the middleware needs in one query."""

    def get_user(self, user_id: Any) -> User | None:
        user = _principal(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def loaded_memberships(user: User) -> list[Membership] | None:
    """The memberships read with the user, or None if the user was read some other way."""
    return getattr(user, "loaded_memberships", None)


class PrincipalOTPMiddleware(OTPMiddleware):  # type: ignore[misc]
    """django-otp's middleware, checking the session's device against the ids read with the
    user instead of reading the device: the device row itself is read only if asked for."""

    def _verify_user_sync(self, request: Any, user: Any) -> Any:
        known = getattr(user, "device_ids", None)
        if known is None or not user.is_authenticated:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        if persistent_id and persistent_id in known:
            user.otp_device = SimpleLazyObject(lambda: Device.from_persistent_id(persistent_id))
        elif persistent_id:
            del request.session[DEVICE_ID_SESSION_KEY]  # removed or unconfirmed since
        return user

"""E-mail addresses as every door stores them: trimmed, lower-case, checked by Django's rule."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

MAX_LENGTH = 254  # the longest address SMTP carries (RFC 5321), and EmailField's limit
_validator = EmailValidator()


@lru_cache(maxsize=4096)
def _domain_valid(domain: str) -> bool:
    # Django's domain check (with its IDNA fallback) is the costly half; a list of 100,000
    # rows has few distinct domains.
    return domain in _validator.domain_allowlist or bool(_validator.validate_domain_part(domain))


def normalize_email(value: str) -> str:
    """The address as stored ("" when empty), or a ValidationError that says what is wrong.

    The same test as Django's EmailValidator (and so EmailField), run part by part.
    """
    email = value.strip().lower()
    if not email:
        return ""
    user, at, domain = email.rpartition("@")
    if (
        not at
        or len(email) > MAX_LENGTH
        or not _validator.user_regex.match(user)
        or not _domain_valid(domain)
    ):
        raise ValidationError(f"“{email}” is not an e-mail address.")
    return email

"""How the intake API says no: 422 with the fields at fault, in one shape for every cause."""

from __future__ import annotations

from typing import Any

from ninja.errors import ValidationError as NinjaValidationError


class Rejected(Exception):
    """The request is refused with field errors (422); nothing it did is kept."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def error_body(
    errors: list[tuple[str, str]], detail: str = "The request is not valid."
) -> dict[str, Any]:
    return {
        "detail": detail,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }


def pydantic_errors(exc: NinjaValidationError) -> list[tuple[str, str]]:
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "payload", "consent", "sms") -> "consent.sms"; ("header", "Idempotency-Key")
        source, rest = (loc[0], loc[1:]) if loc else ("body", [])
        if source == "body" and rest[:1] == ["payload"]:
            rest = rest[1:]
        message = str(error.get("msg", "Not valid."))
        if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
            message = str(error["ctx"]["error"])
        errors.append((".".join(rest) or source, message))
    return errors

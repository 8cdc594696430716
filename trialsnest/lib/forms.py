"""Showing a service's ValidationError on the form that sent its input."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import BaseForm


def add_errors(form: BaseForm, error: ValidationError) -> None:
    """Each message next to its field when the form has one, else at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for each in errors:
                form.add_error(name if name in form.fields else None, each)
    else:
        for message in error.messages:
            form.add_error(None, message)

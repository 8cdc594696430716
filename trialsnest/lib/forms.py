"""Form helpers: free-text fields with the house limits, and showing a service's
ValidationError on the form that sent its input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.forms import BaseForm

from trialsnest.lib.text import TOO_LONG, multi_line, single_line


class PlainTextField(forms.CharField):
    """Free text with a length limit (see trialsnest/lib/text.py) and no control characters;
    `multiline` text (a textarea) keeps tab and line breaks."""

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs: Any) -> None:
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(max_length=max_length, **kwargs)
        self.validators.append(multi_line if multiline else single_line)
        self.error_messages["max_length"] = TOO_LONG


def limit_text(
    field: forms.Field, *, max_length: int | None = None, multiline: bool = False
) -> None:
    """The same rules on a field a ModelForm made from its model (which may have no limit)."""
    if not isinstance(field, forms.CharField):
        raise TypeError("Only text fields take text limits.")
    if max_length is not None and field.max_length != max_length:
        field.max_length = max_length
        field.validators.append(MaxLengthValidator(max_length))
        field.widget.attrs["maxlength"] = str(max_length)
    field.validators.append(multi_line if multiline else single_line)
    field.error_messages["max_length"] = TOO_LONG


def add_errors(form: BaseForm, error: ValidationError) -> None:
    """Each message next to its field when the form has one, else at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for each in errors:
                form.add_error(name if name in form.fields else None, each)
    else:
        for message in error.messages:
            form.add_error(None, message)

"""Free text as people type it, on every door: how long it may be and which characters it may
hold. The limits live here and nowhere else; forms use them through PlainTextField
(trialsnest/lib/forms.py), services through check_text, so the API and CSV doors meet the same
rules as the screens.

Control characters (Unicode category Cc: ESC, BEL, NUL...) are refused everywhere, since they
can rewrite a terminal or a log line and mean nothing in a name; multi-line text keeps tab and
line breaks. Lone surrogates cannot be stored and are refused with them.

Searches compare names folded (search_key): lower case, without accents.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db.models import Func, TextField, Value
from django.db.models.functions import Concat, Lower
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

NOTE_MAX = 5000  # a note, a contact attempt's note, a site's lay summary
LINE_MAX = 500  # one line: a reason, a next action's note, an opt-out's evidence
NAME_MAX = 100  # a person's first or last name (Person.first_name / last_name)

MULTILINE_ALLOWED = frozenset("\t\n\r")
TOO_LONG = _("Shorten this to %(limit_value)s characters or fewer (it has %(show_value)s).")
CONTROL = _("Remove the control characters (such as Esc or a line break) from this text.")
CONTROL_MULTILINE = _("Remove the control characters (such as Esc or Bel) from this text.")


# Unicode's Cc is exactly U+0000-U+001F and U+007F-U+009F, Cs exactly U+D800-U+DFFF: one
# regular expression each way (a character-by-character category lookup was a tenth of a
# 100,000-row import's checking).
_CONTROL_CLASS = "[\x00-\x1f\x7f-\x9f\ud800-\udfff]"
_CONTROL = re.compile(_CONTROL_CLASS)
_CONTROL_MULTILINE = re.compile(f"(?![{''.join(sorted(MULTILINE_ALLOWED))}]){_CONTROL_CLASS}")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(value) is not None


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> StrOrPromise | None:
    """What is wrong with `value`, or None."""
    if has_control_characters(value, multiline=multiline):
        return CONTROL_MULTILINE if multiline else CONTROL
    if len(value) > max_length:
        return TOO_LONG % {"limit_value": max_length, "show_value": len(value)}
    return None


def check_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """A service's check: `value` back, or a ValidationError naming `field`."""
    problem = text_problem(value, max_length=max_length, multiline=multiline)
    if problem is not None:
        raise ValidationError({field: str(problem)})
    return value


def single_line(value: str) -> None:
    """A form validator: no control characters at all."""
    if has_control_characters(value):
        raise ValidationError(CONTROL, code="control_characters")


def multi_line(value: str) -> None:
    """A form validator: no control characters but tab and line breaks."""
    if has_control_characters(value, multiline=True):
        raise ValidationError(CONTROL_MULTILINE, code="control_characters")


# How a search compares names: in lower case and without accents, so "maria" finds "María" and
# "GONZALEZ" finds "González". The same folding makes the index (search_key_sql) and the text
# looked up (search_key); translate() is core PostgreSQL (no unaccent extension).
ACCENTED = "áàâäãåāăąéèêëēėęěíìîïīįóòôöõōőúùûüūůűñńňçćčýÿśšźżžďťř"
PLAIN = "".join(unicodedata.normalize("NFD", char)[0] for char in ACCENTED)
_PLAIN = str.maketrans(ACCENTED, PLAIN)


def search_key(text: str) -> str:
    return text.lower().translate(_PLAIN)


def search_key_sql(expression: Any) -> Func:
    return Func(
        Lower(expression),
        Value(ACCENTED),
        Value(PLAIN),
        function="translate",
        output_field=TextField(),
    )


def name_words_sql(first: Any, last: Any) -> Func:
    """The words of a name (first and last), folded as search_key_sql folds them, as a tsvector
    of the 'simple' configuration: a GIN index on it (leads/models.py Person) finds any word of
    the name by its start ('garc':* finds "María López García")."""
    return Func(
        search_key_sql(Concat(first, Value(" "), last, output_field=TextField())),
        function="to_tsvector",
        template="%(function)s('simple'::regconfig, %(expressions)s)",
        output_field=SearchVectorField(),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text

"""The public catalog's full-text search: the words people type, made into a tsquery.

What is indexed is in trialsnest/studies/models.py (Study.search_vector, StudySite.search_vector),
with the text search configurations named here.

Every field is indexed twice: stemmed in its language (so "studies" finds "study") and unstemmed
with the `simple` configuration, because a prefix is matched against whole words: "radiatio"
stems to itself and is no prefix of the stem "radiat", but it is one of the word "radiation".

Typed text never reaches to_tsquery as it is: it is cut into words of letters and digits
(with the hyphens and points inside them: "COVID-19", "3.5mg"), each quoted as a tsquery lexeme,
joined with the operators here. Quotes, &, |, !, :*, backslashes or parentheses in the input are
only separators, and a quoted word holds nothing to escape. Inside the quotes PostgreSQL's own
parser reads the word the way it read the indexed text, so "anti-pd-1" matches "Anti-PD-1".

What people type works as on a search engine: several words must all match, "or" between two
words lets either match, a quoted phrase matches those words in that order, a word after "-"
must not appear, and the last word also matches as the beginning of a longer word ("melanom"
finds melanoma) unless it is quoted or excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchQueryCombinable

# The registry and the organizations' own lay summaries are in English; a StudySite's Spanish
# lay summary is in Spanish. A query is read in each language (either may match).
ENGLISH = "english"
SPANISH = "spanish"
UNSTEMMED = "simple"
LANGUAGES = (ENGLISH, SPANISH)

# Enough for any real search; bounds the size of the SQL a long input makes.
MAX_TERMS = 10
MAX_TEXT = 500

_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
_WORD = re.compile(r"\w+(?:[-.]\w+)*")


@dataclass(frozen=True)
class _Item:
    text: str  # words of _WORD, separated by spaces
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class WordsQuery:
    """`matches`: the query to filter with (the last word may be a prefix). `exact`: the same
    with the last word whole, so whole-word matches can rank above prefix-only ones."""

    matches: SearchQueryCombinable
    exact: SearchQueryCombinable


def _parse(text: str) -> list[list[_Item]]:
    """Clauses that must all match, each a list of alternatives ("or"), any of which may."""
    clauses: list[list[_Item]] = []
    joining = False
    for token in _TOKEN.finditer(text):
        if sum(len(clause) for clause in clauses) >= MAX_TERMS:
            break
        phrase, word = token.group("phrase"), token.group("word")
        if word is not None and word.lower() == "or":
            joining = bool(clauses)
            continue
        if phrase is not None:
            items = [_Item(" ".join(_WORD.findall(phrase)), phrase=True)]
        else:
            negated = word.startswith("-")
            items = [_Item(w, negated=negated) for w in _WORD.findall(word)]
        for item in (i for i in items if i.text):
            if joining:
                clauses[-1].append(item)
            else:
                clauses.append([item])
            joining = False
    return clauses


def _lexeme(item: _Item, *, prefix: bool) -> str:
    # Only letters, digits, "-" and "." are left: nothing inside the quotes needs escaping.
    return f"'{item.text}'" + (":*" if prefix else "")


def _item_query(item: _Item, config: str, *, prefix: bool) -> SearchQueryCombinable:
    if item.negated:
        # Absent in every reading (else the Spanish reading of an English word lets it in).
        excluded = [
            SearchQuery(_lexeme(item, prefix=False), config=c, search_type="raw", invert=True)
            for c in (*LANGUAGES, UNSTEMMED)
        ]
        combined: SearchQueryCombinable = excluded[0]
        for query in excluded[1:]:
            combined = combined & query
        return combined
    if prefix:
        return _any_of(_lexeme(item, prefix=True), (config, UNSTEMMED))
    return SearchQuery(_lexeme(item, prefix=False), config=config, search_type="raw")


def _any_of(lexeme: str, configs: tuple[str, ...]) -> SearchQueryCombinable:
    queries = [SearchQuery(lexeme, config=config, search_type="raw") for config in configs]
    combined: SearchQueryCombinable = queries[0]
    for query in queries[1:]:
        combined = combined | query
    return combined


def _query(clauses: list[list[_Item]], config: str, *, prefix: bool) -> SearchQueryCombinable:
    last = clauses[-1][-1]
    combined: SearchQueryCombinable | None = None
    for clause in clauses:
        alternatives: SearchQueryCombinable | None = None
        for item in clause:
            as_prefix = prefix and item is last and not item.phrase and not item.negated
            one = _item_query(item, config, prefix=as_prefix)
            alternatives = one if alternatives is None else alternatives | one
        assert alternatives is not None
        combined = alternatives if combined is None else combined & alternatives
    assert combined is not None
    return combined


def _in_every_language(clauses: list[list[_Item]], *, prefix: bool) -> SearchQueryCombinable:
    queries = [_query(clauses, config, prefix=prefix) for config in LANGUAGES]
    combined: SearchQueryCombinable = queries[0]
    for query in queries[1:]:
        combined = combined | query
    return combined


def words_query(text: str) -> WordsQuery | None:
    """The query for what a visitor typed, or None when it holds no word to search for."""
    clauses = _parse(text[:MAX_TEXT])
    if not clauses:
        return None
    return WordsQuery(
        matches=_in_every_language(clauses, prefix=True),
        exact=_in_every_language(clauses, prefix=False),
    )

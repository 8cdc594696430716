"""How an inbound text is read: every opt-out keyword in any case, alone or with trailing
words, the Spanish ones, opting back in only on the keyword alone, and stop-wishes in words."""

from __future__ import annotations

import pytest

from leads.outreach.keywords import OPT_OUT_KEYWORDS, Intent, classify


def _forms(keyword: str) -> list[str]:
    return [
        keyword,
        keyword.lower(),
        keyword.title(),
        f"{keyword}.",
        f"  {keyword.lower()}!",
        f"{keyword.capitalize()}. Thank you",
        f"{keyword} please, no more",
        f'"{keyword}"',
    ]


@pytest.mark.parametrize("text", [f for k in OPT_OUT_KEYWORDS for f in _forms(k)])
def test_every_opt_out_keyword_opts_out_in_any_form(text):
    assert classify(text) == Intent.OPT_OUT


@pytest.mark.parametrize("text", ["ALTO", "alto por favor", "Parar", "BAJA", "baja.", "Cancelar"])
def test_the_spanish_keywords_opt_out(text):
    assert classify(text) == Intent.OPT_OUT


@pytest.mark.parametrize("text", ["opt out", "Opt-Out", "OPTOUT", "opt   out now", "Stopall"])
def test_the_spelled_out_forms_opt_out(text):
    assert classify(text) == Intent.OPT_OUT


@pytest.mark.parametrize(
    "text", ["stopping by later", "Ending at 5?", "Removed?", "Is it still on?", "Endless"]
)
def test_a_word_that_only_starts_like_a_keyword_is_not_one(text):
    assert classify(text) != Intent.OPT_OUT


@pytest.mark.parametrize("text", ["START", "start", "Unstop", "YES", "yes.", "Start!"])
def test_start_unstop_and_yes_alone_opt_back_in(text):
    assert classify(text) == Intent.OPT_IN


@pytest.mark.parametrize("text", ["yes what time?", "Yes I can come Tuesday", "start date?"])
def test_yes_or_start_with_more_words_is_a_reply_not_an_opt_in(text):
    assert classify(text) == Intent.REPLY


@pytest.mark.parametrize("text", ["HELP", "help?", "Info", "AYUDA", "ayuda por favor"])
def test_help_keywords_ask_for_help(text):
    assert classify(text) == Intent.HELP


@pytest.mark.parametrize(
    "text",
    [
        "please don't text me again",
        "Please do not contact me",
        "Wrong number",
        "no más mensajes",
        "No me escriba más",
        "número equivocado",
        "Leave me alone",
        "I'm not interested",
    ],
)
def test_a_wish_to_stop_without_a_keyword_is_noticed(text):
    assert classify(text) == Intent.MAYBE_STOP


@pytest.mark.parametrize("text", ["Hi, is this about the study?", "Tuesday works", "Thanks!"])
def test_an_ordinary_reply_is_a_reply(text):
    assert classify(text) == Intent.REPLY

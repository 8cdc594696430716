"""Careful language: nothing in the product calls a person eligible or ineligible, and every
screen that shows a prescreen outcome says the study team makes the final decision."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from prescreen.presenters import FINAL_DECISION
from prescreen.services.questionnaires import question_save, version_draft, version_publish
from tests.conftest import World
from trialsnest.audit.services import Actor

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("trialsnest", "leads", "prescreen", "records", "scheduling", "reporting")
# Built so that this file itself does not contain the word it looks for.
WORD = re.compile("elig" + "ible", re.IGNORECASE)


def _product_files() -> list[Path]:
    files = [p for p in (ROOT / "templates").rglob("*") if p.is_file()]
    files += [p for p in (ROOT / "locale").rglob("*.po")]
    files += [p for p in (ROOT / "static").rglob("*") if p.suffix in (".js", ".css", ".svg")]
    for package in PRODUCT:
        files += [p for p in (ROOT / package).rglob("*.py")]
    return files


def test_no_template_translation_or_python_message_says_the_word():
    files = _product_files()
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if WORD.search(line)
    ]

    assert len(files) > 100  # the search looked where the product's words are
    assert found == []


def test_the_search_finds_the_word_in_any_case():
    assert WORD.search("You are IN" + "ELIGIBLE")
    assert not WORD.search("eligibility criteria")


def test_every_outcome_template_says_the_study_team_decides():
    outcome_templates = [
        ROOT / "templates/prescreen/conduct.html",
        ROOT / "templates/prescreen/_lead_panel.html",
    ]
    for path in outcome_templates:
        text = path.read_text()
        assert "_final_decision.html" in text, path
    assert "the study team makes the final decision" in FINAL_DECISION


def test_a_question_using_the_word_cannot_be_published(world: World):
    actor = Actor(world.site_lead.user)
    draft = version_draft(study_site=world.study_site_a, actor=actor)
    question_save(
        version=draft,
        actor=actor,
        kind="yes_no",
        text="Are you " + "eligible for surgery?",
    )

    with pytest.raises(ValidationError, match="reword it"):
        version_publish(version=draft, actor=actor)

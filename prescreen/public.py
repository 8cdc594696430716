"""The self-prescreen on the public interest form: a StudySite's questions marked public.

The person answers in English or Spanish and never sees a result: only that the study team will
review the answers. The answers travel in the submission's payload and arrive with the lead
(prescreen.receivers), as a prescreen in progress the coordinator continues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from prescreen.forms import AnswersForm
from prescreen.models import Question, QuestionnaireVersion
from prescreen.selectors import published_version, questions_of
from trialsnest.studies.models import StudySite

PREFIX = "self"


@dataclass
class SelfPrescreen:
    study_site: StudySite
    version: QuestionnaireVersion
    questions: list[Question]
    form: AnswersForm

    def payload(self) -> dict[str, Any]:
        """What the submission keeps (JSON): which version was asked, and the answers given."""
        answers = {code: v for code, v in self.form.answers().items() if v is not None}
        return {
            "study_site": str(self.study_site.code),
            "version": str(self.version.code),
            "answers": answers,
        }


def self_prescreen_for(
    sites: list[StudySite],
    entry: StudySite | None,
    data: QueryDict | None,
    language: str,
) -> SelfPrescreen | None:
    """The public questions of the one StudySite the form goes to: the only site of the study,
    or the site whose page the visitor came from. Nothing when there is no such site or it has
    no public question (a study page listing several sites asks none: the answers could not
    say which site's questions they answer)."""
    study_site = sites[0] if len(sites) == 1 else entry
    if study_site is None:
        return None
    version = published_version(study_site.pk)
    if version is None:
        return None
    questions = questions_of(version, public_only=True)
    if not questions:
        return None
    form = AnswersForm(data, questions=questions, spanish=language.startswith("es"), prefix=PREFIX)
    return SelfPrescreen(study_site=study_site, version=version, questions=questions, form=form)

"""Conducting a lead's prescreen: one screen, answers saved as they come, works without
JavaScript (every form posts and redirects), htmx swaps the form in place when it is there."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from leads.gatekeepers import get_lead_for_user
from leads.models import Lead
from prescreen import selectors
from prescreen.forms import AnswersForm, ConfirmForm, ReviewForm
from prescreen.gatekeepers import get_response_for_user, prescreen_member_required
from prescreen.models import PrescreenResponse, Question, ResponseStatus
from prescreen.presenters import FINAL_DECISION
from prescreen.services.responses import (
    PRESCREENABLE,
    response_confirm,
    response_review,
    response_save,
)
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.tenancy.http import TenantRequest


def _questions(lead: Lead, response: PrescreenResponse | None) -> list[Question]:
    # An open response goes on with the version it started with (answers point at it).
    version = response.version if response else selectors.published_version(lead.study_site_id)
    return selectors.questions_of(version) if version else []


def _page(
    request: TenantRequest,
    lead: Lead,
    response: PrescreenResponse | None,
    questions: list[Question],
    form: AnswersForm | None = None,
    confirm_form: ConfirmForm | None = None,
    status: int = 200,
    review_form: ReviewForm | None = None,
) -> HttpResponse:
    answers = selectors.answers_of(response) if response else {}
    if form is None:
        form = AnswersForm(questions=questions, initial=AnswersForm.initial_of(questions, answers))
    submitted = response is not None and response.status == ResponseStatus.SUBMITTED
    if submitted and confirm_form is None and response is not None:
        confirm_form = ConfirmForm(computed=response.computed_outcome)
    recorded = selectors.recorded_responses(lead.pk)
    # The latest recorded prescreen needs the study team, and the lead waits for them.
    awaiting = next(iter(recorded), None)
    if awaiting and (awaiting.outcome != "needs_review" or awaiting.review_outcome):
        awaiting = None
    if lead.status != "needs_review":
        awaiting = None
    context: dict[str, Any] = {
        "lead": lead,
        "response": response,
        "form": form,
        "submitted": submitted,
        "confirm_form": confirm_form,
        "can_conduct": lead.status in PRESCREENABLE,
        "answered": sum(1 for q in questions if str(q.code) in answers),
        "final_decision": FINAL_DECISION,
        "recorded": recorded,
        "awaiting_review": awaiting,
        "review_form": review_form or ReviewForm(),
    }
    template = "prescreen/conduct.html"
    if request.htmx:
        template += "#prescreen_form"
    return render(request, template, context, status=status)


@prescreen_member_required()
@require_http_methods(["GET", "POST"])
def conduct(request: TenantRequest, code: str) -> HttpResponse:
    """The questions (GET); saving progress or submitting the answers for scoring (POST)."""
    lead = get_lead_for_user(request, code)
    response = selectors.open_response(lead.pk)
    questions = _questions(lead, response)
    if request.method == "GET":
        return _page(request, lead, response, questions)
    submit = request.POST.get("step") == "submit"
    form = AnswersForm(request.POST, questions=questions, complete=submit)
    if form.is_valid():
        try:
            response = response_save(
                lead=lead, answers=form.answers(), actor=Actor.of(request), submit=submit
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if request.htmx:
                lead = get_lead_for_user(request, code)
                return _page(request, lead, response, questions)
            messages.success(request, "Answers submitted." if submit else "Progress saved.")
            return redirect("prescreen_conduct", code=lead.code)
    # htmx swaps only 2xx answers: errors come back as 200 in the form's place.
    return _page(request, lead, response, questions, form, status=200 if request.htmx else 422)


@prescreen_member_required()
@require_POST
def confirm(request: TenantRequest, code: str) -> HttpResponse:
    """The coordinator confirms the computed result, or records another with a reason."""
    response = get_response_for_user(request, code)
    lead = get_lead_for_user(request, response.lead.code)
    form = ConfirmForm(request.POST, computed=response.computed_outcome)
    if form.is_valid():
        try:
            response_confirm(
                response=response,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                actor=Actor.of(request),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"{lead.person.full_name} · prescreen recorded. {FINAL_DECISION}"
            )
            url = reverse("lead_detail", kwargs={"code": lead.code})
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    questions = selectors.questions_of(response.version)
    return _page(
        request,
        lead,
        response,
        questions,
        confirm_form=form,
        status=200 if request.htmx else 422,
    )


@prescreen_member_required()
@require_POST
def review(request: TenantRequest, code: str) -> HttpResponse:
    """The study team's decision on a prescreen that needed review, recorded by a member."""
    response = get_response_for_user(request, code)
    lead = get_lead_for_user(request, response.lead.code)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            response_review(
                response=response,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                actor=Actor.of(request),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{lead.person.full_name} · study-team review recorded.")
            return redirect("lead_detail", code=lead.code)
    questions = selectors.questions_of(response.version)
    return _page(request, lead, None, questions, status=422, review_form=form)

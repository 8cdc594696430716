"""The site lead's questionnaire builder: one StudySite's prescreen, its draft and versions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from prescreen import selectors
from prescreen.forms import FhirImportForm, QuestionForm, RuleForm
from prescreen.gatekeepers import (
    SITE_LEADS,
    get_question_for_user,
    get_rule_for_user,
    get_version_for_user,
    prescreen_member_required,
)
from prescreen.models import Question, QuestionnaireVersion, VersionStatus
from prescreen.services.questionnaires import (
    OPERATORS,
    question_delete,
    question_move,
    question_save,
    questionnaire_of,
    rule_add,
    rule_delete,
    version_draft,
    version_draft_from_study,
    version_publish,
)
from trialsnest.audit.services import Actor
from trialsnest.lib.forms import add_errors
from trialsnest.studies.models import StudySite
from trialsnest.tenancy.gatekeepers import get_study_site_for_user
from trialsnest.tenancy.http import TenantRequest


def _back(study_site: StudySite) -> HttpResponse:
    return redirect("prescreen_builder", code=study_site.code)


def _study_site_of(version: QuestionnaireVersion) -> StudySite:
    return version.questionnaire.study_site


@prescreen_member_required(*SITE_LEADS)
@require_GET
def builder(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    questionnaire = questionnaire_of(study_site)
    versions = list(selectors.versions_of(questionnaire))
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    shown = draft or published
    context = {
        "study_site": study_site,
        "versions": versions,
        "draft": draft,
        "published": published,
        "shown": shown,
        "questions": selectors.questions_of(shown) if shown else [],
        "import_form": FhirImportForm(),
    }
    return render(request, "prescreen/builder.html", context)


def _write(
    request: TenantRequest, study_site: StudySite, action: Callable[[], object], done: str
) -> HttpResponse:
    """Run a builder change; its refusal or `done` as a message, then back to the builder."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return _back(study_site)


@prescreen_member_required(*SITE_LEADS)
@require_POST
def draft_start(request: TenantRequest, code: str) -> HttpResponse:
    """Edit the questionnaire: the open draft, else a new one copied from the published."""
    study_site = get_study_site_for_user(request, code)
    actor = Actor.of(request)
    return _write(
        request,
        study_site,
        lambda: version_draft(study_site=study_site, actor=actor),
        "Draft ready: the published version stays as it is until you publish.",
    )


@prescreen_member_required(*SITE_LEADS)
@require_POST
def draft_from_study(request: TenantRequest, code: str) -> HttpResponse:
    study_site = get_study_site_for_user(request, code)
    actor = Actor.of(request)
    return _write(
        request,
        study_site,
        lambda: version_draft_from_study(study_site=study_site, actor=actor),
        "Draft proposed from the study record: review every question before publishing.",
    )


@prescreen_member_required(*SITE_LEADS)
@require_POST
def publish(request: TenantRequest, code: str) -> HttpResponse:
    version = get_version_for_user(request, code)
    actor = Actor.of(request)
    return _write(
        request,
        _study_site_of(version),
        lambda: version_publish(version=version, actor=actor),
        f"Version {version.number} published: new prescreens ask it from now on.",
    )


def _question_page(
    request: TenantRequest,
    version: QuestionnaireVersion,
    question: Question | None,
    form: QuestionForm,
    rule_form: RuleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "version": version,
        "study_site": _study_site_of(version),
        "question": question,
        "form": form,
        "rule_form": rule_form or RuleForm(),
        "rules": list(question.rules.all()) if question else [],
        "operators": [str(o) for o in OPERATORS[question.kind]] if question else [],
    }
    return render(request, "prescreen/question.html", context, status=status)


def _save_question(
    request: TenantRequest, version: QuestionnaireVersion, question: Question | None
) -> HttpResponse:
    form = QuestionForm.of(question, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = question_save(
                version=version, question=question, actor=Actor.of(request), **form.service_fields()
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Question saved.")
            return redirect("prescreen_question", code=saved.code)
    status = 422 if request.method == "POST" else 200
    return _question_page(request, version, question, form, status=status)


@prescreen_member_required(*SITE_LEADS)
@require_http_methods(["GET", "POST"])
def question_new(request: TenantRequest, code: str) -> HttpResponse:
    version = get_version_for_user(request, code)
    if not version.is_draft:
        messages.error(request, "A published version cannot be changed: edit it as a new draft.")
        return _back(_study_site_of(version))
    return _save_question(request, version, None)


@prescreen_member_required(*SITE_LEADS)
@require_http_methods(["GET", "POST"])
def question_edit(request: TenantRequest, code: str) -> HttpResponse:
    question = get_question_for_user(request, code)
    if request.method == "POST" and not question.version.is_draft:
        messages.error(request, "A published version cannot be changed: edit it as a new draft.")
        return _back(_study_site_of(question.version))
    return _save_question(request, question.version, question)


@prescreen_member_required(*SITE_LEADS)
@require_POST
def question_remove(request: TenantRequest, code: str) -> HttpResponse:
    question = get_question_for_user(request, code)
    actor = Actor.of(request)
    return _write(
        request,
        _study_site_of(question.version),
        lambda: question_delete(question=question, actor=actor),
        "Question removed.",
    )


@prescreen_member_required(*SITE_LEADS)
@require_POST
def question_reorder(request: TenantRequest, code: str) -> HttpResponse:
    question = get_question_for_user(request, code)
    actor, up = Actor.of(request), request.POST.get("direction") != "down"
    return _write(
        request,
        _study_site_of(question.version),
        lambda: question_move(question=question, up=up, actor=actor),
        "Question moved.",
    )


@prescreen_member_required(*SITE_LEADS)
@require_POST
def rule_new(request: TenantRequest, code: str) -> HttpResponse:
    question = get_question_for_user(request, code)
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            rule_add(question=question, actor=Actor.of(request), **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Rule added.")
            return redirect("prescreen_question", code=question.code)
    return _question_page(
        request, question.version, question, QuestionForm.of(question), form, status=422
    )


@prescreen_member_required(*SITE_LEADS)
@require_POST
def rule_remove(request: TenantRequest, code: str) -> HttpResponse:
    rule = get_rule_for_user(request, code)
    try:
        rule_delete(rule=rule, actor=Actor.of(request))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Rule removed.")
    return redirect("prescreen_question", code=rule.question.code)

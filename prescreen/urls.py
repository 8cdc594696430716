from __future__ import annotations

from django.urls import path

from prescreen.views import builder, conduct, fhir

urlpatterns = [
    path("prescreen/study-sites/<uuid:code>/", builder.builder, name="prescreen_builder"),
    path("prescreen/study-sites/<uuid:code>/draft/", builder.draft_start, name="prescreen_draft"),
    path(
        "prescreen/study-sites/<uuid:code>/from-study/",
        builder.draft_from_study,
        name="prescreen_from_study",
    ),
    path("prescreen/study-sites/<uuid:code>/import/", fhir.import_, name="prescreen_import"),
    path("prescreen/versions/<uuid:code>/publish/", builder.publish, name="prescreen_publish"),
    path(
        "prescreen/versions/<uuid:code>/questions/new/",
        builder.question_new,
        name="prescreen_question_new",
    ),
    path("prescreen/versions/<uuid:code>/fhir.json", fhir.export, name="prescreen_export"),
    path("prescreen/questions/<uuid:code>/", builder.question_edit, name="prescreen_question"),
    path(
        "prescreen/questions/<uuid:code>/delete/",
        builder.question_remove,
        name="prescreen_question_delete",
    ),
    path(
        "prescreen/questions/<uuid:code>/move/",
        builder.question_reorder,
        name="prescreen_question_move",
    ),
    path("prescreen/questions/<uuid:code>/rules/", builder.rule_new, name="prescreen_rule_new"),
    path("prescreen/rules/<uuid:code>/delete/", builder.rule_remove, name="prescreen_rule_delete"),
    path("leads/<uuid:code>/prescreen/", conduct.conduct, name="prescreen_conduct"),
    path("prescreen/responses/<uuid:code>/confirm/", conduct.confirm, name="prescreen_confirm"),
    path("prescreen/responses/<uuid:code>/review/", conduct.review, name="prescreen_review"),
]

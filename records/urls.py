from __future__ import annotations

from django.urls import path, register_converter
from django.urls.converters import StringConverter

from records.views import checklist, lead, providers


class ItemActionConverter(StringConverter):
    regex = "|".join(lead.ITEM_ACTIONS)


register_converter(ItemActionConverter, "record_action")

urlpatterns = [
    path("study-sites/<uuid:code>/records/", checklist.checklist, name="records_checklist"),
    path(
        "records/checklist/<uuid:code>/",
        checklist.requirement_edit,
        name="records_requirement_edit",
    ),
    path(
        "records/checklist/<uuid:code>/archive/",
        checklist.requirement_archive,
        name="records_requirement_archive",
    ),
    path("records/providers/", providers.provider_list, name="records_providers"),
    path("records/providers/<uuid:code>/", providers.provider_edit, name="records_provider_edit"),
    path("leads/<uuid:code>/records/", lead.lead_records, name="lead_records"),
    path("leads/<uuid:code>/records/letters/", lead.letters, name="records_letters"),
    path(
        "leads/<uuid:code>/records/<uuid:item>/<record_action:action>/",
        lead.item_action,
        name="record_item_action",
    ),
]

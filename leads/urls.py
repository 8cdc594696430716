from __future__ import annotations

from django.urls import include, path, register_converter
from django.urls.converters import StringConverter

from leads.actions import ACTIONS
from leads.views import imports, lead, people, person_export, queue, settings, team


class ActionConverter(StringConverter):
    regex = "|".join(ACTIONS)


register_converter(ActionConverter, "lead_action")

urlpatterns = [
    path("", include("leads.outreach.urls")),
    path("queue/", queue.queue, name="queue"),
    path("queue/search/", queue.queue_search, name="queue_search"),
    path("queue/bulk/", queue.queue_bulk, name="queue_bulk"),
    path("queue/changes/<uuid:code>/", queue.queue_change, name="queue_change"),
    path("queue/changes/<uuid:code>/undo/", queue.queue_change_undo, name="queue_change_undo"),
    path("queue/views/", queue.saved_view_create, name="saved_view_create"),
    path("queue/views/<uuid:code>/delete/", queue.saved_view_delete, name="saved_view_delete"),
    path("leads/<uuid:code>/", lead.lead_detail, name="lead_detail"),
    path("leads/<uuid:code>/<lead_action:action>/", lead.lead_action, name="lead_action"),
    path("team/", team.team, name="team"),
    path("team/<uuid:code>/reassign/", team.team_reassign, name="team_reassign"),
    path("team/flagged/", team.team_flagged, name="team_flagged"),
    path("team/changes/<uuid:code>/undo/", team.team_undo, name="team_undo"),
    path("team/materials/", settings.materials, name="materials"),
    path("team/materials/<uuid:code>/", settings.material_edit, name="material_edit"),
    path("study-sites/<uuid:code>/policy/", team.policy_edit, name="policy_edit"),
    path(
        "study-sites/<uuid:code>/summary-es/",
        team.study_site_summary_es,
        name="study_site_summary_es",
    ),
    path("people/duplicates/", people.duplicate_list, name="duplicate_list"),
    path("people/<uuid:code>/export/", person_export.person_export_page, name="person_export"),
    path("people/<uuid:code>/erase/", person_export.person_erase_view, name="person_erase"),
    path(
        "people/<uuid:code>/export.json",
        person_export.person_export_json,
        name="person_export_json",
    ),
    path("people/<uuid:code>/merge/<uuid:other>/", people.person_merge, name="person_merge"),
    path(
        "people/<uuid:code>/not-duplicate/<uuid:other>/",
        people.person_not_duplicate,
        name="person_not_duplicate",
    ),
    path("people/merges/<uuid:code>/undo/", people.person_merge_undo, name="person_merge_undo"),
    path(
        "people/suspicions/<uuid:code>/dismiss/",
        people.suspicion_dismiss,
        name="suspicion_dismiss",
    ),
    path(
        "people/suspicions/<uuid:code>/separate/",
        people.suspicion_separate,
        name="suspicion_separate",
    ),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/<uuid:code>/", imports.import_detail, name="import_detail"),
    path("imports/<uuid:code>/start/", imports.import_start, name="import_start"),
    path("imports/<uuid:code>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<uuid:code>/retry/", imports.import_retry, name="import_retry"),
    path("imports/<uuid:code>/rows/<str:outcome>.csv", imports.import_rows, name="import_rows"),
    path("imports/<uuid:code>/original.csv", imports.import_original, name="import_original"),
    path("settings/api-keys/", settings.settings_api_keys, name="settings_api_keys"),
    path("settings/api-keys/new/", settings.settings_api_key_new, name="settings_api_key_new"),
    path(
        "settings/api-keys/<uuid:code>/created/",
        settings.settings_api_key_created,
        name="settings_api_key_created",
    ),
    path(
        "settings/api-keys/<uuid:code>/revoke/",
        settings.settings_api_key_revoke,
        name="settings_api_key_revoke",
    ),
]

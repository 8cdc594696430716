from __future__ import annotations

from django.urls import path, register_converter
from django.urls.converters import StringConverter

from leads import views


class ActionConverter(StringConverter):
    regex = "|".join(views.ACTIONS)


register_converter(ActionConverter, "lead_action")

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/search/", views.queue_search, name="queue_search"),
    path("queue/bulk/", views.queue_bulk, name="queue_bulk"),
    path("queue/views/", views.saved_view_create, name="saved_view_create"),
    path("queue/views/<uuid:code>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("leads/<uuid:code>/", views.lead_detail, name="lead_detail"),
    path("leads/<uuid:code>/<lead_action:action>/", views.lead_action, name="lead_action"),
    path("team/", views.team, name="team"),
    path("team/<uuid:code>/reassign/", views.team_reassign, name="team_reassign"),
    path("study-sites/<uuid:code>/policy/", views.policy_edit, name="policy_edit"),
]

from __future__ import annotations

from django.urls import path

from scheduling.views import booking, setup

urlpatterns = [
    path("leads/<uuid:code>/schedule/", booking.lead_schedule, name="lead_schedule"),
    path("appointments/<uuid:code>/", booking.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<uuid:code>/reschedule/",
        booking.appointment_move,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<uuid:code>/calendar.ics",
        booking.appointment_calendar,
        name="appointment_calendar",
    ),
    path(
        "appointments/<uuid:code>/<str:action>/",
        booking.appointment_action,
        name="appointment_action",
    ),
    path("sites/<uuid:code>/scheduling/", setup.site_scheduling, name="site_scheduling"),
    path(
        "sites/<uuid:code>/scheduling/<str:kind>/<uuid:part>/remove/",
        setup.site_part_remove,
        name="site_part_remove",
    ),
    path(
        "study-sites/<uuid:code>/visit-types/",
        setup.visit_types,
        name="visit_types",
    ),
    path("visit-types/<uuid:code>/", setup.visit_type_edit, name="visit_type_edit"),
]

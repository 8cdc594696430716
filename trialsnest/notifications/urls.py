from __future__ import annotations

from django.urls import path

from trialsnest.notifications import views

urlpatterns = [
    path("notifications/", views.notifications_list, name="notifications"),
    path("notifications/bell/", views.notifications_bell, name="notifications_bell"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]

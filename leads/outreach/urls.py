from __future__ import annotations

from django.urls import path

from leads.outreach import webhooks

urlpatterns = [
    path("outreach/sms/twilio/", webhooks.twilio_inbound, name="outreach_twilio"),
    path("outreach/sms/twilio/<str:token>/", webhooks.twilio_inbound, name="outreach_twilio_token"),
    path("outreach/sms/<str:token>/", webhooks.sms_inbound, name="outreach_sms_inbound"),
]

from __future__ import annotations

from django.urls import path

from leads.outreach import email_webhooks, views, webhooks

urlpatterns = [
    path("leads/<uuid:code>/messages/new/", views.message_new, name="outreach_message_new"),
    path("outreach/templates/", views.template_list, name="outreach_templates"),
    path("outreach/templates/<uuid:code>/", views.template_detail, name="outreach_template"),
    path("outreach/inbox/", views.inbox_list, name="outreach_inbox"),
    path("outreach/inbox/<uuid:code>/review/", views.inbox_review, name="outreach_inbox_review"),
    path("outreach/settings/", views.outreach_settings, name="outreach_settings"),
    # Webhooks: no session; the token or Twilio's signature and receiving number decide.
    path("outreach/sms/twilio/", webhooks.twilio_inbound, name="outreach_twilio"),
    path("outreach/sms/twilio/status/", webhooks.twilio_status, name="outreach_twilio_status"),
    path("outreach/sms/twilio/<str:token>/", webhooks.twilio_inbound, name="outreach_twilio_token"),
    path("outreach/sms/<str:token>/", webhooks.sms_inbound, name="outreach_sms_inbound"),
    # The e-mail provider's (EMAIL_URL=anymail://ESP): its secret, checked by django-anymail.
    path("outreach/email/<str:kind>/", email_webhooks.email_webhook, name="outreach_email_webhook"),
]

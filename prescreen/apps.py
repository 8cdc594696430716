from __future__ import annotations

from django.apps import AppConfig


class PrescreenConfig(AppConfig):
    name = "prescreen"

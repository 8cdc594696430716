from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trialsnest.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from trialsnest.accounts import receivers  # noqa: F401 (connects them)

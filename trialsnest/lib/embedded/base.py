"""A PostgreSQL backend whose server is the embedded one, started by the first connection."""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.db.backends.postgresql import base

from trialsnest.lib.embedded import embedded_database_url


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        # Where the server listens is known once it runs (its socket folder can vary).
        server = dj_database_url.parse(embedded_database_url())
        for key in ("HOST", "PORT", "USER", "PASSWORD"):
            self.settings_dict[key] = server.get(key) or ""
        return super().get_connection_params()

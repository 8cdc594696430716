from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsnest.settings")

application = get_wsgi_application()

# Every task registered before the first request: threaded workers must not load them at once.
from trialsnest.ops.outbox import load_tasks  # noqa: E402 (needs the settings loaded above)

load_tasks()

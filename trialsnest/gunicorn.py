"""Gunicorn settings for production (`--config python:trialsnest.gunicorn`)."""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
accesslog = "-"
# The path without its query string: searches carry phone numbers and names.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

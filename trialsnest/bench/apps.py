from __future__ import annotations

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "trialsnest.bench"
    label = "bench"
    verbose_name = "Benchmarks"

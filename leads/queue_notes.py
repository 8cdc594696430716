"""Work other areas of the product put on a member's queue beside their leads (the weekly
review's action items, which reporting knows and leads must not import: reporting imports leads).
Reporting registers its source when its app is ready:

    from leads.queue_notes import register_queue_notes
    register_queue_notes(open_actions_of)  # (membership) -> list[QueueNote]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from trialsnest.tenancy.models import Membership


@dataclass(frozen=True)
class QueueNote:
    title: str
    detail: str  # where it comes from, e.g. "Weekly review of 30 Nov"
    due_on: date
    done_url: str  # POST here to mark it done


Source = Callable[[Membership], list[QueueNote]]
_sources: list[Source] = []


def register_queue_notes(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def queue_notes(membership: Membership) -> list[QueueNote]:
    return sorted((n for s in _sources for n in s(membership)), key=lambda n: n.due_on)

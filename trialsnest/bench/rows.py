"""What the tables generated after the leads need of each lead."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Made(NamedTuple):
    id: int
    organization_id: int
    study_site_id: int
    status: str
    close_reason: str
    received_at: datetime
    moved_at: datetime


# Their places in a generated lead row (generate.LEAD_COLUMNS).
MADE_COLUMNS = (0, 2, 4, 11, 20, 21, 22)

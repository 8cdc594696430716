"""Templates' variables and how a message's text is made from a version and a lead.

A variable is written {{ first_name }}; the list below is every one there is, and a template
naming any other is refused when it is saved. Values are plain text: the e-mail's HTML part
escapes them.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.html import escape, linebreaks

from leads.models import Lead
from leads.outreach.visits import upcoming_visit

VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
VARIABLES: dict[str, str] = {
    "first_name": "The person's first name",
    "study_title": "The study's public title",
    "site_name": "The site's name",
    "site_address": "The site's address",
    "coordinator_name": "The lead's owner",
    "visit_time": "The upcoming visit's time (site time)",
    "visit_address": "The upcoming visit's address",
}
VISIT_VARIABLES = ("visit_time", "visit_address")


def check_variables(text: str, *, field: str) -> None:
    unknown = sorted(set(VARIABLE.findall(text)) - set(VARIABLES))
    if unknown:
        raise ValidationError(
            {field: f"Unknown variable: {', '.join(unknown)}. Use {', '.join(VARIABLES)}."}
        )
    left = VARIABLE.sub("", text)
    if "{{" in left or "}}" in left:
        raise ValidationError({field: "Write variables as {{ first_name }}."})


def lead_values(lead: Lead, names: set[str]) -> dict[str, str]:
    site = lead.study_site.site
    owner = lead.owner.user if lead.owner else None
    values = {
        "first_name": lead.person.first_name,
        "study_title": lead.study_site.study.brief_title,
        "site_name": site.name,
        "site_address": ", ".join(p for p in (site.address, site.city, site.state) if p),
        "coordinator_name": (owner.get_full_name() or owner.email) if owner else "",
    }
    if names & set(VISIT_VARIABLES):
        visit = upcoming_visit(lead)
        if visit is None:
            raise ValidationError("This template names the visit, and the lead has no visit.")
        local = visit.starts_at.astimezone(zoneinfo.ZoneInfo(site.timezone))
        values["visit_time"] = f"{local:%A %B} {local.day}, {local:%H:%M}"
        values["visit_address"] = visit.address
    return values


def render(text: str, lead: Lead) -> str:
    values = lead_values(lead, set(VARIABLE.findall(text)))
    return VARIABLE.sub(lambda m: values[m.group(1)], text)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render_version(*, subject: str, body: str, lead: Lead) -> Rendered:
    return Rendered(subject=render(subject, lead).strip(), body=render(body, lead))


def email_html(body: str) -> str:
    """The e-mail's HTML part: the text, escaped, in paragraphs."""
    return linebreaks(escape(body))

"""Settings → Studies → import: org admins add catalog studies from a ClinicalTrials.gov file.

Studies already in the shared catalog are left as they are (other organizations recruit for
them); only the operator's `import_ctgov` command updates them.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import DataError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialsnest.audit.services import Actor
from trialsnest.studies.forms import CtgovUploadForm
from trialsnest.studies.services import studies_add
from trialsnest.tenancy.gatekeepers import active_membership, member_required
from trialsnest.tenancy.http import TenantRequest
from trialsnest.tenancy.models import Role


@member_required(Role.ORG_ADMIN)
@require_http_methods(["GET", "POST"])
def settings_study_import(request: TenantRequest) -> HttpResponse:
    """Add the file's new studies to the catalog; a bad file imports nothing."""
    membership = active_membership(request)
    form = CtgovUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["file"].name
        try:
            result = studies_add(
                records=form.records,
                source=name,
                actor=Actor.of(request),
                organization_id=membership.organization_id,
            )
        except DataError as exc:
            reason = str(exc).splitlines()[0]
            form.add_error("file", f"{name}: a value does not fit the catalog ({reason}).")
        else:
            if result.created:
                messages.success(
                    request,
                    f"Imported {name}: {len(result.created)} new "
                    f"({', '.join(result.created)}). Add a study to a site to recruit for it.",
                )
            if result.kept:
                messages.info(request, kept_message(name, result.kept))
            return redirect("settings_study_sites")
    return render(request, "studies/settings_study_import.html", {"form": form})


def kept_message(name: str, kept: list[str]) -> str:
    one = len(kept) == 1
    return (
        f"{name}: {', '.join(kept)} {'is' if one else 'are'} already in the shared catalog and "
        f"{'was' if one else 'were'} left unchanged: other organizations may recruit for "
        f"{'it' if one else 'them'}, and catalog records change only from ClinicalTrials.gov, by "
        f"the operator. You can still add {'it' if one else 'them'} to your sites, with your own "
        "wording in each site's lay summary."
    )

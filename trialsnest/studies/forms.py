"""The ClinicalTrials.gov upload form."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from trialsnest.studies.ctgov import CtgovError, StudyRecord, read_text

CTGOV_MAX_BYTES = 20 * 1024 * 1024


class CtgovUploadForm(forms.Form):
    """One ClinicalTrials.gov API v2 JSON file; a file the importer refuses is refused whole."""

    file = forms.FileField(
        label="ClinicalTrials.gov JSON file",
        help_text="A study (/api/v2/studies/NCT…) or a search page (/api/v2/studies?…) saved as "
        "JSON, up to 20 MB.",
    )

    records: list[StudyRecord]

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        name = upload.name or "The file"
        if (upload.size or 0) > CTGOV_MAX_BYTES:
            raise forms.ValidationError(f"{name}: larger than 20 MB; save fewer studies per page.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(f"{name}: not UTF-8 text, so not a JSON file.") from None
        try:
            self.records = read_text(text)
        except CtgovError as exc:
            raise forms.ValidationError(f"{name}: {' '.join(str(exc).split())}") from None
        if not self.records:
            raise forms.ValidationError(f"{name}: the search page holds no studies.")
        return upload

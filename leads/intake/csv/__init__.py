"""CSV import of vendor and referral lists: reader (file → checked rows), matching (rows
against the organization's people), writer (set-based writes) and services (the import's
life: upload, mapping, start, run)."""

"""CSV import of vendor and referral lists: reader (file → checked rows), matching (each row's
outcome by the identity rule), writer (set-based writes, and the import's own rows), runner
(the worker's part: check, chunked write, lease, resume), services (the steps a person takes:
upload, mapping, start, retry) and results (the kept rows, paged and as downloads)."""

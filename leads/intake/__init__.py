"""Patient intake: every door (web form, API, CSV) into one `intake()`, and what surrounds it:
kept submissions, recruitment materials, API keys, CSV imports, the identity rule, and
duplicate people (review, merge and undo)."""

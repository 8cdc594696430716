"""What the leads app announces for other product apps (records, prescreen) to act on, so the
leads core never imports them. Receivers are connected in their app's AppConfig.ready."""

from __future__ import annotations

from django.dispatch import Signal

# A lead moved to another status. Sent by leads.services.leads.lead_change_status inside the
# transaction that saved it, with `lead` (locked, saved), `from_status` and `actor`: a receiver's
# writes commit or roll back with the move.
lead_status_changed = Signal()

# The queue is about to show `leads` (one page) in `tab` as of `now`. A receiver may answer
# {lead id: reason} for the rows whose reason to be there it knows better (records: "records
# overdue 3 days · Denver Family Practice"); it must cost a constant number of queries per page.
queue_rows_shown = Signal()

# The lead page is about to show `lead` to `membership`. A receiver answers (name, value): the
# page's `panels` context entry holds each under its name, for the panel's own include.
lead_page_shown = Signal()

# Everything held about `person` is being exported (the person's own copy, on request). A
# receiver answers (section title, [rows as dicts of JSON-able values]) for what its app keeps.
person_exported = Signal()

# `person`'s contact details and free text are being erased, in the transaction that erases
# them: a receiver scrubs what its app keeps of the same kind (answers, reasons typed by staff).
person_erased = Signal()

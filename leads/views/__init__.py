"""The leads app's screens, one module per area: queue, lead, team, people, imports, settings.

Every action works as a plain form (a page of its own without JavaScript) and as an htmx
fragment inside the queue or the lead page.
"""

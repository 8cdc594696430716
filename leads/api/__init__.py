"""The API: app (the NinjaAPI), intake endpoints, handoffs, schemas, auth, errors and docs."""

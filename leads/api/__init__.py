"""The intake API: app (the NinjaAPI), endpoints, schemas, auth, errors and docs."""

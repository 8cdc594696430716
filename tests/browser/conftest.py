"""The browser fixtures (`browser`, `page`) live in tests/conftest.py: one browser per session."""

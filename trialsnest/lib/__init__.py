"""Domain-free helpers: nothing here knows about leads, studies or organizations."""

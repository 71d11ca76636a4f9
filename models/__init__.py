"""SQLModel tables, the engine, and every query duban runs (the one place for SQL)."""

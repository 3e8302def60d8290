"""The SQL implementation of the Store (SQLite and PostgreSQL)."""

"""Persistence: SQLAlchemy models, repositories and the unit of work. Knows nothing of HTTP."""

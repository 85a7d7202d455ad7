"""Persistence for Ally: SQLAlchemy 2.0 models, sessions, repositories and Alembic migrations.

Nothing here knows about Slack payloads or Block Kit.
"""

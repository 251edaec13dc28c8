"""Revocations across processes: PostgreSQL LISTEN/NOTIFY or Redis pub/sub (see ``choice``)."""

"""Alembic scripts of quart-authtuna's tables (run them with ``quart authtuna db upgrade``)."""

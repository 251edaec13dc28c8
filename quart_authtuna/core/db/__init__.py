"""Database layer: declarative base, engine factory and the tables."""

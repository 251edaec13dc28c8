"""Managers: one per table family, keeping upstream AuthTuna method names."""

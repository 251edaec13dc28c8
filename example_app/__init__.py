"""Example Quart app for quart-authtuna; run it with ``make demo``."""

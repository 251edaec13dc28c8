"""WTForms for each area; shape checks only (semantic rules live in the core)."""

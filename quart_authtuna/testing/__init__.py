"""Test helpers shipped with quart-authtuna (the dev OpenID provider lives in dev_oidc)."""

"""Social sign-in: provider settings, the OAuth/OIDC client and id_token checks."""

"""Scoped hierarchical RBAC: scope paths, permission names and a user's resolved grants."""

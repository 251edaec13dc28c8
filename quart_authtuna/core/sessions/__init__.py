"""Session validation: the cookie, the in-process cache, and interval re-verification."""

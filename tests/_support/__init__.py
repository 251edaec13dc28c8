"""Test support code shared by the suites (never collected as tests)."""

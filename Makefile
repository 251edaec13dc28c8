# Developer entry points. `make demo` and `make test` work on a fresh machine with python3.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv demo dev-oidc test lint typecheck bench

venv: $(VENV)/.installed

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml (or this Makefile) changes; the stamp keeps re-runs fast.
# hatchling (the build backend) lets the wheel test build offline with --no-isolation.
$(VENV)/.installed: pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --upgrade pip "hatchling>=1.25"
	$(PY) -m pip install -e ".[test]"
	touch $@

# The demo starts the dev OpenID provider beside it ("Sign in with Dev SSO"; DEV_SSO=0: off).
demo: venv
	$(PY) -m example_app

# The dev OpenID provider alone (prints the AUTHTUNA_OIDC_PROVIDERS value to use).
dev-oidc: venv
	$(PY) -m quart_authtuna.testing.dev_oidc --port 8077

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy

bench: venv
	@set -e; for script in benchmarks/bench_*.py; do \
		echo "== $$script"; \
		$(PY) "$$script"; \
	done

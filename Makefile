# THISTHAT backend. `make run` starts everything; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PORT ?= 8000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Tests, checks and `make createdb` talk to the local servers unless told otherwise.
LOCAL_DATABASE_URL := postgres://postgres@127.0.0.1:5432/thisthat
LOCAL_REDIS_URL := redis://127.0.0.1:6379/0

.DEFAULT_GOAL := help
.PHONY: help install run migrate createdb test lint format check schema clean bench loadtest x-standin

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed ## Create .venv and install the pinned requirements

migrate: install ## Apply migrations (and create the cache table in embedded mode)
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable

# `make run` is for development: DEBUG defaults on (so dev secrets are generated) in either mode.
run: export DEBUG ?= true
run: export BIND_HOST ?= 127.0.0.1
run: export PORT := $(PORT)
run: migrate ## Start API, Celery worker and beat with demo data (embedded mode without DATABASE_URL/REDIS_URL)
	@$(MANAGE) collectstatic --noinput --verbosity 0
	@$(MANAGE) seed_demo
	@echo ""
	@echo "  API docs   http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Admin      http://127.0.0.1:$(PORT)/admin/"
	@echo "  Health     http://127.0.0.1:$(PORT)/ready"
	@echo "  Ctrl-C stops web, worker and beat."
	@echo ""
	@exec $(PY) scripts/run.py

createdb: ## Create the local PostgreSQL database named in DATABASE_URL (default thisthat)
	@DATABASE_URL=$${DATABASE_URL:-$(LOCAL_DATABASE_URL)} $(PY) scripts/createdb.py

test: install ## Run the whole test suite against the local PostgreSQL and Redis
	DATABASE_URL=$${DATABASE_URL:-$(LOCAL_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(LOCAL_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: install ## ruff check, format check, and the declared layers (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: install ## Migrations in sync, OpenAPI schema valid, production settings pass check --deploy, alert rules valid
	DJANGO_SETTINGS_MODULE=thisthat.settings.test $(MANAGE) makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=thisthat.settings.test $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null
	DJANGO_SETTINGS_MODULE=thisthat.settings.production DATABASE_URL=$(LOCAL_DATABASE_URL) REDIS_URL=$(LOCAL_REDIS_URL) \
		EMAIL_URL=smtp+tls://ci@mail.example.com:587 \
		SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
		JWT_SIGNING_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
		$(MANAGE) check --deploy --fail-level WARNING
	@if command -v promtool >/dev/null; then promtool check rules ops/prometheus/alerts.yml; \
		else echo "promtool not installed (apt-get install prometheus): alert rules checked by the tests only"; fi

schema: install ## Write the OpenAPI schema to openapi.yaml
	DJANGO_SETTINGS_MODULE=thisthat.settings.test $(MANAGE) spectacular --validate --file openapi.yaml

clean: ## Remove embedded-mode state (SQLite, broker folders, dev secrets) and collected static files
	rm -rf var staticfiles

x-standin: install ## Serve a stand-in X on 127.0.0.1:8001 for sign in with X without X credentials (prints the settings)
	$(PY) scripts/x_standin.py $(X_STANDIN_ARGS)

bench: install ## Benchmark the API under gunicorn on loopback (PostgreSQL + Redis; not part of make test)
	$(PY) -m bench.run $(BENCH_ARGS)

loadtest: install ## Load test with wrk beside a bare DRF view, then check the ledger and exactly-once bets (not part of make test)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)); } \
		|| { echo "wrk is missing; install it with: sudo apt-get install -y wrk"; exit 1; }
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)

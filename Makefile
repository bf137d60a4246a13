# Refundesk — `make run` (the app) and `make test` (the whole suite).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi

.PHONY: run test lint typecheck format translations-update translations-check test-sqlite test-postgres venv venv-dev system-deps services translations worker clean

# Runtime dependencies for `make run`; runtime + development (tests, lint, types) for `make test`.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

# Debian packages: Chromium + CJK fonts (browser tests), Tesseract (OCR), libmagic (type sniffing).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-chi-sim"; \
	(command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -q chi_sim) || missing="$$missing tesseract-ocr-chi-sim"; \
	ldconfig -p 2>/dev/null | grep -q libmagic.so.1 || missing="$$missing libmagic1"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Start PostgreSQL and Redis when they are down (CI and dev machines of this project have both).
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 || \
	  createdb -h 127.0.0.1 -U postgres test

# Translations: one catalog per language under app/translations, with Babel's standard commands.
# After changing strings: `make translations-update`, translate the new entries of the zh catalog,
# `make translations-check` (every string has its Chinese), then commit the .po files.
translations: venv
	$(BIN)/pybabel -q compile -d app/translations

translations-update: venv
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k pgettext:1c,2 \
	  -k lazy_pgettext:1c,2 --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching \
	  --ignore-obsolete -w 100
	rm app/translations/messages.pot

translations-check: venv-dev translations
	$(BIN)/python -m pytest -q -p no:xdist tests/tickets/test_views_i18n.py::test_every_string_of_app_has_a_chinese_translation

run: venv translations
	-@$(MAKE) -s system-deps
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: venv-dev system-deps services translations lint typecheck test-sqlite test-postgres

# Lint and format checks (configuration in pyproject.toml); fail on any finding. Part of `make test`.
lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Type checks of app/ (configuration in pyproject.toml); fail on any finding. Part of `make test`.
typecheck: venv-dev
	$(BIN)/mypy

format: venv-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# In parallel (pytest-xdist, one process per core; TEST_WORKERS=0 runs serially). On PostgreSQL each
# worker gets its own database, $(PG_URL)_gw0, _gw1, ... (created on first use; tests/conftest.py).
TEST_WORKERS ?= auto
test-sqlite: venv-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

test-postgres: venv-dev
	TEST_DATABASE_URL=$(PG_URL) REDIS_TEST_URL=redis://127.0.0.1:6379/15 $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

worker: venv
	$(BIN)/flask worker

clean:
	rm -rf $(VENV) instance .pytest_cache

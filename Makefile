# The commands README.md names. `make run` and `make test` work on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: install catalogs run test vnu lint demo translations bench bench-uploads bench-rush screenshots audit clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/pybabel compile --use-fuzzy -d parro/translations --statistics
	touch $@

# Compile the catalogs every time: a pulled .po must never run with a stale .mo.
catalogs: install
	@$(BIN)/pybabel compile -d parro/translations >/dev/null

run: install catalogs
	$(FLASK) setup
	PARRO_DEMO=true $(FLASK) run --host 127.0.0.1 --port 5000

# One test process per core (pytest-xdist), each with a database of its own
# (tests/conftest.py); PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= auto
test: install catalogs vnu
	$(BIN)/python -m pytest --numprocesses $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The Nu HTML Checker for tests/test_valid_html.py (pinned in tests/vnu/package-lock.json;
# it runs on Debian's Java, default-jre-headless). Without npm the test is skipped.
vnu: tests/vnu/node_modules/.package-lock.json
tests/vnu/node_modules/.package-lock.json: tests/vnu/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/vnu --no-audit --no-fund --silent; \
	else echo "npm not found: the HTML check (tests/test_valid_html.py) will be skipped"; fi

# Style and correctness checks (configured in pyproject.toml); CI runs this before the tests.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

demo: install catalogs
	$(FLASK) demo

# Re-extract the user-facing strings; then fill in the English msgstr's in
# parro/translations/en/LC_MESSAGES/messages.po (Dutch is the source language).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o parro/translations/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i parro/translations/messages.pot -d parro/translations --no-fuzzy-matching --omit-header

# The benchmark (see README, Performance): a large school and a board of 20 schools under
# gunicorn, loaded by wrk. `make bench` runs on SQLite, `make bench DB=postgresql` on the
# PostgreSQL database BENCH_DATABASE_URL (emptied first; its name must contain "bench").
# BENCH_ARGS passes options to bench/run.py, e.g. BENCH_ARGS="--seconds 5" or
# BENCH_ARGS="--scales large,board" (without the growth curve).
DB ?= sqlite
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/parro_bench
bench: install catalogs
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(if $(filter postgresql,$(DB)),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# Chat messages sent while a teacher uploads 20 photos, and a worker's memory for an
# upload (bench/uploads.py); DB and BENCH_DATABASE_URL as for `make bench`.
bench-uploads: install catalogs
	$(BIN)/python bench/uploads.py $(if $(filter postgresql,$(DB)),--database-url $(BENCH_DATABASE_URL))

# The conference rush: 300 families open a conference round and book one slot each within
# a minute, under gunicorn (bench/rush.py); DB and BENCH_DATABASE_URL as for `make bench`.
bench-rush: install catalogs
	$(BIN)/python bench/rush.py $(if $(filter postgresql,$(DB)),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# Every main page per role at 360 and 1280 px (build/screenshots/) and README's
# phone pictures (docs/screenshots/); see tools/screenshots.py.
screenshots: install catalogs
	$(BIN)/python tools/screenshots.py

# What a phone downloads, first and repeat visit, and Lighthouse's scores (README, "Light
# on a phone"); Lighthouse 12.2.3 is pinned in tools/audit/package-lock.json (Node 20).
audit: install catalogs
	npm ci --prefix tools/audit --no-audit --no-fund --silent
	$(BIN)/python tools/audit.py $(AUDIT_ARGS)

clean:
	rm -rf $(VENV)

# authgate — the two commands of the README, and the developer's others.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_PATHS := src tests $(wildcard bench)

.PHONY: run test check lint bench bench-soak soak clean interop-deps browser-deps screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

## make run: install, initialise the SQLite database and keys, seed a demo client and user, serve on :8000
run: $(STAMP)
	$(BIN)/authgate db upgrade
	$(BIN)/authgate demo
	$(BIN)/authgate serve --host 127.0.0.1 --port 8000

## make check: formatting, lint, types
check: $(STAMP)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy

## make lint: fix what can be fixed automatically
lint: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

## make interop-deps: the node client libraries of the interop tests (CI=true needs node)
interop-deps:
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ "$$CI" = "true" ]; then \
		echo "node and npm are required for the interop tests under CI=true" >&2; exit 1; \
	else echo "node not found: the node interop tests will be skipped"; fi

## make browser-deps: axe-core for the real-browser tests (tests/browser; Chromium comes from
## Debian: apt-get install -y chromium — never a browser download)
browser-deps:
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ "$$CI" = "true" ]; then \
		echo "node and npm are required for the browser tests under CI=true" >&2; exit 1; \
	else echo "npm not found: the browser tests will be skipped"; fi

## make screenshots: every page x en/it/zh-CN x desktop/phone (390 px, light and dark) into screenshots/
screenshots: $(STAMP) browser-deps
	rm -rf screenshots && mkdir -p screenshots
	AUTHGATE_SCREENSHOTS=$(CURDIR)/screenshots $(BIN)/pytest -q tests/browser/test_pages.py -k test_page
	@echo "screenshots/: $$(ls screenshots | wc -l) images"

## make test: install test extras, check, run the whole suite on SQLite and PostgreSQL, coverage gates
test: $(STAMP) check interop-deps browser-deps
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report --fail-under=100 --include='*/authgate/core/*'
	$(BIN)/coverage report --fail-under=90

## make bench: benchmarks of the hot paths (not part of make test)
bench: $(STAMP)
	$(BIN)/python bench/run.py

## make bench-soak: p99 at half the maximum rate, and RSS after 10^6 requests (not in make test)
bench-soak: $(STAMP)
	$(BIN)/python bench/soak.py

## make soak: the long race and reliability runs (about 15 minutes on 2 cores). Each test's
## outcome is printed as it ends; the JUnit report (written at the end, also after Ctrl-C)
## keeps the tracebacks.
soak: $(STAMP)
	AUTHGATE_SOAK=1 $(BIN)/pytest -m slow tests -v -rf --junitxml=soak-report.xml

clean:
	rm -rf $(VENV) .coverage .coverage.* .mypy_cache .ruff_cache build src/*.egg-info

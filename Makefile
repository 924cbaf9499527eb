# The newcomer's path: `make demo` and `make test` need nothing installed by hand but Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts unit dockerlint install clean bench postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests benchmarks scripts
	$(BIN)/ruff format --check reconciler tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy reconciler
	$(BIN)/mypy scripts benchmarks

contracts: $(STAMP)
	$(BIN)/lint-imports

# The state tests run a real PostgreSQL server; its binaries come from Debian's package.
postgres:
	@bash scripts/ensure_postgres.sh

unit: $(STAMP) postgres
	$(BIN)/pytest -q

# The image is checked without a container engine: hadolint ships in the dev extra.
dockerlint: $(STAMP)
	$(BIN)/hadolint Dockerfile

test: lint typecheck contracts dockerlint unit

demo: $(STAMP)
	@bash scripts/demo.sh

# Each benchmark appends its summary line to one file; the merged table is printed at the end.
bench: $(STAMP)
	@summary=$$(mktemp); for b in benchmarks/*.py; do [ $$b = benchmarks/harness.py ] && continue; \
	  echo "== $$b"; BENCH_SUMMARY_FILE=$$summary $(BIN)/python $$b || exit 1; done; \
	  echo "== summary"; $(BIN)/python benchmarks/harness.py $$summary; rm -f $$summary

clean:
	rm -rf $(VENV) .reconciler .mypy_cache .ruff_cache

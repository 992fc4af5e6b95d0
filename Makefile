# Voiceline: `make run` to try it on the built-in simulator, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export SECRET_KEY ?= $(shell cat .voiceline-secret 2>/dev/null || ($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' | tee .voiceline-secret))

.PHONY: run test test-postgres bench bench-smoke bench-micro wrk drills fuzz-admin lint typecheck clean install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Prism (pinned in package-lock.json) for the contract test; where npm is missing the
# test says it was skipped and why.
node_modules/.installed: package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@; \
	else echo "npm not found: the Prism contract test will be skipped"; fi

## run: install, migrate, load the example directory if empty, start web + worker + simulator
run: $(STAMP)
	$(BIN)/voiceline demo

## test: lint, type-check and run the whole suite (SQLite)
test: $(STAMP) node_modules/.installed lint typecheck
	$(BIN)/python -m pytest

## test-postgres: the same suite on the PostgreSQL server in VOICELINE_TEST_DATABASE_URL
test-postgres: $(STAMP) node_modules/.installed
	VOICELINE_TEST_DATABASE_URL=$${VOICELINE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

## bench: every performance figure at full size, one table, bench/results/<date>.json
## (BENCH_SIZE=smoke for the tiny run; BENCH_ARGS="--only storm --strict" to narrow it)
# The processes it times start as a deployment's do, from compiled bytecode, even where
# PYTHONDONTWRITEBYTECODE keeps Python from writing it (site-packages got theirs from pip).
bench: $(STAMP) wrk
	$(BIN)/python -m compileall -q voiceline escalation oncall webhooks simulator
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-smoke: the same runner at tiny sizes; fails if any figure could not be measured
bench-smoke: $(STAMP) wrk
	$(BIN)/python -m compileall -q voiceline escalation oncall webhooks simulator
	$(BIN)/python -m bench --size smoke --require-all $(BENCH_ARGS)

## bench-micro: the pytest-benchmark micro benchmarks (make test runs each once)
bench-micro: $(STAMP)
	$(BIN)/python -m pytest --benchmark-enable --benchmark-only -p no:randomly

## drills: the fault drills of a real night against gunicorn, the worker, SQLite and
## PostgreSQL; prints one table. DRILL_SIZE=N multiplies the callers (1 is CI's size).
DRILL_SIZE ?= 1
# Extra pytest arguments, e.g. DRILL_ARGS="-k 'not wall_clock'" to leave a drill out.
DRILL_ARGS ?=
drills: $(STAMP)
	@command -v cc >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null) \
	  || echo "no C compiler could be installed: the wall-clock drill will say so"
	DRILL_SIZE=$(DRILL_SIZE) DRILL_TABLE_FILE=test-artifacts/drills.txt \
	  $(BIN)/python -m pytest tests/drills -m drill -p no:randomly --timeout=300 $(DRILL_ARGS)

## fuzz-admin: hypothesis over every admin form alone (make test runs it too);
## VOICELINE_FUZZ_EXAMPLES=N sets the examples per route (60 unless told)
fuzz-admin: $(STAMP)
	$(BIN)/python -m pytest tests/fuzz/test_fuzz_admin.py -m fuzz_admin -p no:randomly

# wrk (Debian's package) drives the webhook figures; installed here when root with apt-get.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
	     || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)) \
	    || echo "could not install wrk: the webhook figures will say NOT MEASURED"; \
	  else echo "wrk not found (install Debian's wrk): the webhook figures will say NOT MEASURED"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache test-artifacts

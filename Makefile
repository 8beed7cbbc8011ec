# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrate demo serve bench fuzz mutate clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Rekam needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

migrate: $(VENV)/.installed
	$(BIN)/rekam migrate

demo: migrate
	$(BIN)/rekam demo

run: demo
	$(BIN)/rekam serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check api tests bench tools
	$(BIN)/ruff format --check api tests bench tools
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

fuzz: $(VENV)/.installed-test
	REKAM_FUZZ_EXAMPLES=$${REKAM_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest tests/test_fuzz.py -q

# Mutation testing of the rule modules (slow, not part of `test`): prints the score and survivors.
mutate: $(VENV)/.installed-test
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info

# The two commands of the README: `make demo` and `make test`. Both create the virtual
# environment from the lock file on first use (a fresh machine needs only Python 3.11 + pip).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -n 2

.PHONY: demo test lint install clean

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/storeops demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check storeops tests benchmarks
	$(BIN)/ruff format --check storeops tests benchmarks
	$(BIN)/mypy storeops/core/money.py storeops/core/errors.py storeops/core/context.py \
		storeops/stores/playbook.py $(wildcard storeops/*/rules.py storeops/*/rules storeops/promotions/engine)
	$(BIN)/lint-imports
	$(BIN)/storeops makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var

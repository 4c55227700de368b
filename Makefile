# Two commands do all set-up on a fresh machine: `make verify` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.zoo-installed

.PHONY: verify test bench clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## verify: set up on first use, then check every model in metadata/
verify: $(STAMP)
	$(BIN)/zoo verify --all $(ZOO_ARGS)

## test: set up on first use, then run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: run every benchmark in benchmarks/ and print its figures
bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit $$?; done

clean-venv:
	rm -rf $(VENV)

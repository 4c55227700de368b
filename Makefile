# Two commands do all set-up on a fresh machine: `make verify` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.zoo-installed

.PHONY: verify test bench gpu-wheels gpu-check clean-venv

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

## gpu-wheels: fill .gpu-wheels/ for a GPU machine without network (TIMM_GIT: a timm git repository)
GPU_WHEELS ?= .gpu-wheels
GPU_PYTHON_VERSION ?= 3.12
gpu-wheels: $(STAMP)
	$(BIN)/python benchmarks/gpu_prep.py --out $(GPU_WHEELS) --python-version $(GPU_PYTHON_VERSION) $(if $(TIMM_GIT),--timm-git $(TIMM_GIT))

## gpu-check: on the GPU machine, with its own python3: every GPU figure in one Markdown summary (GPU_CHECK_OUT)
GPU_CHECK_OUT ?= gpu-check.md
gpu-check:
	$(PYTHON) benchmarks/gpu_check.py --wheels $(GPU_WHEELS) --out $(GPU_CHECK_OUT) $(GPU_CHECK_ARGS)

clean-venv:
	rm -rf $(VENV)

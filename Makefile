PYTHON ?= python3

.PHONY: install ensure-demo ensure-test test test-fast test-lowest lint demo gpu-check sweeps

# `make demo` and `make test` work on a fresh machine: each first asks pip's metadata (no import,
# a fraction of a second) whether the distributions it needs are installed, and runs `install`
# only when one is missing. The current folder is dropped from the search path first, so that the
# checkout's own timing_trainer.egg-info does not pass for an installed package.
DEMO_NEEDS = timing-trainer torch
TEST_NEEDS = $(DEMO_NEEDS) pytest pytest-xdist nbclient nbformat ipykernel trl peft
HAS = $(PYTHON) -c "import sys; sys.path.pop(0); from importlib.metadata import version; [version(name) for name in sys.argv[1:]]"

install:
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -e ".[test,trl,lora]"

# Not a prerequisite target: a recipe line that names $(MAKE) also runs under `make -n`, so
# `make -n test` shows whether the install would run.
ensure-demo:
	@$(HAS) $(DEMO_NEEDS) 2>/dev/null || $(MAKE) --no-print-directory install PYTHON="$(PYTHON)"

ensure-test:
	@$(HAS) $(TEST_NEEDS) 2>/dev/null || $(MAKE) --no-print-directory install PYTHON="$(PYTHON)"

test: ensure-test
	$(PYTHON) -m pytest -q -n auto

# Without the end-to-end tests marked slow (pyproject.toml registers the marker).
test-fast: ensure-test
	$(PYTHON) -m pytest -q -n auto -m "not slow"

# The focused suite against the lowest transformers setup.cfg allows, in its own venv.
test-lowest:
	bash .ci/lowest_transformers.sh

lint:
	$(PYTHON) -m ruff check timing_trainer tests bench

demo: ensure-demo
	$(PYTHON) -m timing_trainer demo

sweeps:
	timing-trainer sweeps generate

gpu-check:
	bash bench/gpu_check.sh

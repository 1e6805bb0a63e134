PYTHON ?= python3

.PHONY: install test test-lowest lint demo bench gpu-check sweeps

install:
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -e ".[test]"

test:
	$(PYTHON) -m pytest -q -n auto

# The focused suite against the lowest transformers setup.cfg allows, in its own venv.
test-lowest:
	bash .ci/lowest_transformers.sh

lint:
	$(PYTHON) -m ruff check timing_trainer tests bench

demo:
	timing-trainer demo

sweeps:
	timing-trainer sweeps generate

gpu-check:
	bash bench/gpu_check.sh

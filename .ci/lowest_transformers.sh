#!/usr/bin/env bash
# The declared range holds at its low end: a second virtual environment with the lowest
# transformers that setup.cfg allows, and the part of the suite that touches transformers' API
# (the Trainer subclass and patch, the GLUE program, the demo assets, sweep command parsing).
# The analysis and cost model do not import transformers; the main run covers them.
set -euo pipefail
cd "$(dirname "$0")/.."
LOWEST_TRANSFORMERS="4.46.3"  # = the lower bound of `transformers>=4.46` in setup.cfg
VENV="${TIMING_TRAINER_LOW_VENV:-${TMPDIR:-/tmp}/timing-trainer-transformers-${LOWEST_TRANSFORMERS}}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# torch first, from this machine's disk (the CPU wheel), as in .ci/run.
"$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q "transformers==${LOWEST_TRANSFORMERS}" -e ".[test]"
"$VENV/bin/python" -c "import transformers; assert transformers.__version__ == '${LOWEST_TRANSFORMERS}', transformers.__version__"
"$VENV/bin/python" -m pytest -q -n auto -p no:cacheprovider \
    tests/test_trainer.py tests/test_patch.py tests/test_patch_in_place.py \
    tests/test_trainer_features.py \
    tests/glue/test_arguments.py tests/glue/test_run.py tests/glue/test_validation.py \
    tests/glue/test_data.py tests/glue/test_tokenization.py tests/glue/test_metrics.py \
    tests/commands/test_demo.py tests/sweep/test_macros.py tests/sweep/test_runs.py
echo "transformers ${LOWEST_TRANSFORMERS}: focused suite passed in $(( $(date +%s) - start )) s"

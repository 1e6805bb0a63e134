"""The GLUE program, run as from the command line, stopping inside its first evaluation until a
signal comes (for tests/glue/test_lifecycle.py): the trainer gets blocking_eval's callback.

Usage: python glue_blocking.py MARKER GLUE_ARGS...
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scripts.blocking_eval import BlockInEvaluation  # noqa: E402

from timing_trainer.glue import run  # noqa: E402


def main(marker: str, glue_args: list[str]) -> int:
    build = run.GlueRun._build_trainer

    def build_and_block(self, *args, **kwargs):
        trainer = build(self, *args, **kwargs)
        trainer.add_callback(BlockInEvaluation(marker))
        return trainer

    run.GlueRun._build_trainer = build_and_block
    sys.argv = ["timing_trainer.glue", *glue_args]
    return run.main()  # argv None: as `python -m timing_trainer.glue` calls it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

"""`python -m timing_trainer.glue ...`: see timing_trainer.glue.run for the flow and exit codes."""

import sys

from timing_trainer.glue.run import main

if __name__ == "__main__":
    sys.exit(main())

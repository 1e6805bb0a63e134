import sys

from timing_trainer.cli import main

sys.exit(main())

import sys

from timing_trainer.commands.main import main

sys.exit(main())

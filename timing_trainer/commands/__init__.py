"""The `timing-trainer` command line: `main` is the entry point, one module per subcommand.

Each module exposes `register(subparsers)`; `main` imports them by name and is the one place
that turns a `TimingTrainerError` into one line and exit status 2.
"""

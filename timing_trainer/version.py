"""The package's version, in a module of its own: `timing_trainer.__version__` re-exports it, and
the environment probe reads it here, so nothing below the package root imports the root."""

__version__ = "0.1.0"

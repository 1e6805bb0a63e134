"""Errors that the command line reports as one clear line with a non-zero exit status."""


class CliError(Exception):
    """Bad input or an impossible request: printed as one line, exit status 2, no traceback."""

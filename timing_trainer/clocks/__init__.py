"""clocks: TODO docstring."""

"""runtime: TODO docstring."""

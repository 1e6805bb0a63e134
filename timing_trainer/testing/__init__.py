"""testing: TODO docstring."""

"""commands: TODO docstring."""

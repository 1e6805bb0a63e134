"""sweep.config: TODO docstring."""

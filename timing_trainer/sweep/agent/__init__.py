"""sweep.agent: TODO docstring."""

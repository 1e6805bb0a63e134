"""analysis.table: TODO docstring."""

"""The analysis written down: `report.md` section by section, `summary.json`, the CSV tables
and the PNG plots, from an `Analysis`. Plot functions take `ax=None` and return the axes.
"""

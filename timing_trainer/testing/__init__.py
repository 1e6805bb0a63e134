"""Generated runs with known effects, for tests, the benchmarks and offline notebook runs.

Kept out of the production packages: nothing in `timing_trainer` imports it.
- `runs`: results of synthetic runs (and run folders of them) for the analysis.
- `costs`: run tables from a known cost formula, for the cost model.
"""

"""The analysis's one tidy table: every source (run folders, W&B exports, the W&B API) read
into one set of column names, one row order, one identity per run. No statistics here.
"""

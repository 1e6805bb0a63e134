"""The statistics of the thesis and beyond, on the tidy table: each takes a DataFrame and
column names and returns tidy results (pingouin's style). `result.Analysis` holds them all;
nothing here writes a file.
"""

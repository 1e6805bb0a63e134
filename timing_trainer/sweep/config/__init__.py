"""Sweep files: the one spec, the YAML generated from it, validation against W&B's schema and
the program's arguments, the expansion into runs in W&B's order, and W&B's macros. Torch-free.
"""

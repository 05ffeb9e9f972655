"""Checking gradients: against finite differences (``gradcheck``), against a user's (``compare``),
what went wrong (``diagnose``), and the report both give. Pure: no I/O, no printing."""

# check's modes and parts, here so that the command line's options know them without numpy
MODES = ("auto", "full", "fast")
PARTS = ("all", "data", "penalty")

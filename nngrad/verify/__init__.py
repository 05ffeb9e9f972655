"""Checking gradients: against finite differences (``gradcheck``), against a user's (``compare``),
what went wrong (``diagnose``), and the report both give. Pure: no I/O, no printing."""

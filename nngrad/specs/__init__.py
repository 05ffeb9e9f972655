"""Spec files: reading YAML and NPZ safely (with places and lines), writing them back, and
making new random specs. The edge between files and the validated ``model``."""

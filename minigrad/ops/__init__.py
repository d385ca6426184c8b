"""Primitives: one Function per op, grouped by family."""

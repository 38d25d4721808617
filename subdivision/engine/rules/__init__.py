"""Importing this package registers every rule in ``registry.RULES`` (in this order)."""
from . import geometry, coverage, lots, access, roads, areas  # noqa: F401

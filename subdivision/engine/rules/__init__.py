"""Importing this package registers every rule in ``registry.RULES`` (in this order)."""
from . import access, areas, buildings, corners, coverage, geometry, lots, roads  # noqa: F401

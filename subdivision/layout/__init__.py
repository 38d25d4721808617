"""A proposed compliant layout for a parent parcel: roads joined to the streets, lots, open space.

Pure (shapely and the validation engine only); ``service`` loads the parcel and its surroundings.
"""
from .draw import Candidate, draw
from .search import Layout, LayoutFeature, NoLayout, design_layout
from .targets import Dimensions, LayoutTargets, dimensions, target_problems

__all__ = ["Candidate", "Dimensions", "Layout", "LayoutFeature", "LayoutTargets", "NoLayout", "design_layout",
           "dimensions", "draw", "target_problems"]

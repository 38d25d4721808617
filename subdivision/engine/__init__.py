"""Pure subdivision-plan validation engine (shapely only; no Django, no database).

>>> from subdivision.engine import validate, PlanContext
"""
from .budget import Budget, BudgetExceeded, TooComplex
from .context import ExistingParcel, PlanContext, PlanFeature, RuleSet
from .findings import ERROR, WARNING, Finding
from .registry import RULES, Prepared, prepare, rule
from .validate import Report, summarize, validate

__all__ = [
    "ERROR", "WARNING", "RULES", "Budget", "BudgetExceeded", "TooComplex", "ExistingParcel", "Finding", "PlanContext", "PlanFeature",
    "Prepared", "Report", "RuleSet", "prepare", "rule", "summarize", "validate",
]

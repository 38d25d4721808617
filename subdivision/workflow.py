"""The approval workflow as a table: which action moves a plan from which status to which, and who may take it.

Pure (no Django import): the services apply it, the API lists the actions a caller may take.

    draft --submit--> submitted --assign--> under_review --approve--> approved
                                                  |  \\--reject--> rejected
                                               return
                                                  v
                         returned --resubmit--> resubmitted --assign--> under_review
                                                resubmitted --approve|reject|return--> ...

A surveyor may withdraw a plan at any time before a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, SUBMITTED, UNDER_REVIEW = "draft", "submitted", "under_review"
RETURNED, RESUBMITTED = "returned", "resubmitted"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"

SURVEYOR_SIDE, MUNICIPALITY_SIDE = "surveyor", "planner"

# Where the plan is with the municipality: the SLA clock runs.
WITH_MUNICIPALITY = frozenset({SUBMITTED, UNDER_REVIEW, RESUBMITTED})
DECIDED = frozenset({APPROVED, REJECTED, WITHDRAWN})
OPEN = frozenset({DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED, RESUBMITTED})


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    target: str
    side: str  # who takes it: the surveying office or the municipality's planners
    comment_required: bool = False
    needs_file: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("submit", frozenset({DRAFT}), SUBMITTED, SURVEYOR_SIDE),
    Action("assign", frozenset({SUBMITTED, RESUBMITTED, UNDER_REVIEW}), UNDER_REVIEW, MUNICIPALITY_SIDE),
    Action("return", frozenset({UNDER_REVIEW, RESUBMITTED}), RETURNED, MUNICIPALITY_SIDE, comment_required=True),
    Action("resubmit", frozenset({RETURNED}), RESUBMITTED, SURVEYOR_SIDE, needs_file=True),
    Action("approve", frozenset({UNDER_REVIEW, RESUBMITTED}), APPROVED, MUNICIPALITY_SIDE),
    Action("reject", frozenset({UNDER_REVIEW, RESUBMITTED}), REJECTED, MUNICIPALITY_SIDE, comment_required=True),
    Action("withdraw", frozenset({DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED, RESUBMITTED}), WITHDRAWN,
           SURVEYOR_SIDE),
)}


class IllegalTransition(Exception):
    """The action cannot be taken from the plan's status."""


def target_of(action: str, status: str) -> str:
    """Return the status ACTION moves a plan in STATUS to, or raise IllegalTransition saying why not."""
    step = ACTIONS[action]
    if status not in step.sources:
        allowed = ", ".join(sorted(step.sources))
        raise IllegalTransition(f"a plan that is {status} cannot be {_past(action)}: only a plan that is {allowed}")
    return step.target


def available(status: str, sides: frozenset[str]) -> list[str]:
    """Return the actions a caller acting for SIDES may take on a plan in STATUS, in table order."""
    return [a.name for a in ACTIONS.values() if status in a.sources and a.side in sides]


def _past(action: str) -> str:
    return {"submit": "submitted", "assign": "assigned", "return": "returned", "resubmit": "resubmitted",
            "approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[action]

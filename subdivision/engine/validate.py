"""Run every registered rule over a plan and summarise its land budget."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import shapely

from . import rules as _rules  # noqa: F401  (registers the rules)
from .budget import UNLIMITED, Budget, BudgetExceeded, TooComplex
from .context import LOT, OPEN_SPACE, ROAD, UTILITY, PlanContext
from .corrections import attach_corrections
from .findings import ERROR, Finding
from .registry import RULES, Prepared, prepare
from .rules.areas import public_share_pct

logger = logging.getLogger(__name__)


@dataclass
class Report:
    valid: bool
    summary: dict[str, float | int]
    findings: list[Finding]


def summarize(p: Prepared) -> dict[str, float | int]:
    """Return the plan's area budget in m² and %, rounded to 2 decimals."""
    _, outside_parts = p.outside
    # parts of overlapping features that stick out together must be counted once
    outside = shapely.union_all(outside_parts).area if len(outside_parts) else 0.0
    uncovered = p.uncovered_area
    return {
        "parent_area_m2": round(p.parent_area, 2),
        "lots_count": int(len(p.lot_idx)),
        "lots_area_m2": round(p.kind_area(LOT), 2),
        "roads_area_m2": round(p.kind_area(ROAD), 2),
        "open_space_area_m2": round(p.kind_area(OPEN_SPACE), 2),
        "utility_area_m2": round(p.kind_area(UTILITY), 2),
        "public_share_pct": round(public_share_pct(p), 2),
        "overlap_area_m2": round(p.overlaps.total_area, 2),
        "uncovered_area_m2": round(float(uncovered), 2),
        "outside_area_m2": round(float(outside), 2),
    }


def _rule_failed(code: str, exc: Exception) -> Finding:
    # A bug in one rule must not hide the findings of the others; it is an error so the
    # plan is not approved on an incomplete check.
    return Finding(
        "RULE_FAILED", ERROR,
        f"Check {code} could not be completed: {type(exc).__name__}: {exc}",
        f"تعذر إكمال الفحص {code}: {type(exc).__name__}",
        (), None,
    )


# Shared data computed on two cores before the rules run: GEOS releases the GIL, and the lots'
# frontage (a second thread) is independent of the coverage checks (this thread).
_BESIDE = ("lot_frontage",)
_HERE = ("overlaps", "uncovered", "outside")


def _warm(prepared: Prepared, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            getattr(prepared, name)
        except (BudgetExceeded, TooComplex):
            raise
        except Exception:  # noqa: BLE001 - the rule that needs it computes it again and reports the failure
            return


def _warm_up(prepared: Prepared) -> None:
    """Compute the expensive shared data, two parts at once."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        beside = pool.submit(_warm, prepared, _BESIDE)
        _warm(prepared, _HERE)
        beside.result()


def validate(ctx: PlanContext, *, only: tuple[str, ...] | None = None, budget: Budget = UNLIMITED) -> Report:
    """Return the validation report of a subdivision plan (``only`` limits the rule codes).

    Raises ``BudgetExceeded`` once ``budget`` runs out and ``TooComplex`` for a plan that would
    need unbounded work; every other failure of a rule becomes a RULE_FAILED finding.
    """
    prepared = prepare(ctx, budget)
    if only is None:
        _warm_up(prepared)
    findings: list[Finding] = []
    for code, fn in RULES.items():
        if only is not None and code not in only:
            continue
        budget.check(f"checking {code}")
        try:
            findings.extend(fn(ctx, prepared))
        except (BudgetExceeded, TooComplex):
            raise
        except Exception as exc:  # noqa: BLE001 - reported as a finding, see _rule_failed
            logger.exception("Rule %s failed", code)
            findings.append(_rule_failed(code, exc))
    try:
        findings = attach_corrections(ctx, prepared, findings, budget=budget)
    except (BudgetExceeded, TooComplex):
        raise
    except Exception:  # noqa: BLE001 - a suggestion that fails must not cost the report
        logger.exception("Corrections failed")
    try:
        summary = summarize(prepared)
    except (BudgetExceeded, TooComplex):
        raise
    except Exception as exc:  # noqa: BLE001
        logger.exception("Summary failed")
        findings.append(_rule_failed("summary", exc))
        summary = {}
    valid = not any(f.severity == ERROR for f in findings)
    return Report(valid=valid, summary=summary, findings=findings)

"""Rules on the plan's land budget."""
from __future__ import annotations

from ..context import PUBLIC_KINDS, PlanContext
from ..findings import ERROR, Finding
from ..registry import Prepared, rule


def public_share_pct(p: Prepared) -> float:
    """Return roads + open space + utility area as a percentage of the parent area."""
    if p.parent_area <= 0:
        return 0.0
    return p.kind_area(*PUBLIC_KINDS) / p.parent_area * 100


@rule("PUBLIC_SHARE_MIN")
def public_share_min(ctx: PlanContext, p: Prepared) -> list[Finding]:
    limit = ctx.rules.min_public_share_pct
    if p.parent_area <= 0:
        return []
    share = public_share_pct(p)
    if share >= limit:
        return []
    return [Finding(
        "PUBLIC_SHARE_MIN", ERROR,
        f"Roads, open space and public facilities take {share:.2f}% of the parent area, under the minimum of {limit:g}%",
        f"الشوارع والمساحات المفتوحة والمرافق العامة تشغل {share:.2f}% من مساحة القطع الأم، وهي أقل من الحد الأدنى {limit:g}%",
        (), None, share, limit,
    )]

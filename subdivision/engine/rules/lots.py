"""Rules on lot numbering and lot areas."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import numpy as np
import shapely

from ..context import PlanContext
from ..findings import ERROR, WARNING, Finding
from ..registry import Prepared, rule
from ._text import LISTED_IN_MESSAGE, name_ar, name_en, named, num


@rule("MISSING_LOT_NO")
def missing_lot_no(ctx: PlanContext, p: Prepared) -> list[Finding]:
    out = []
    for i in p.lot_idx:
        f = ctx.features[i]
        if f.lot_no is not None and str(f.lot_no).strip():
            continue
        out.append(Finding(
            "MISSING_LOT_NO", ERROR,
            f"The lot at position {f.index} in the file has no lot number",
            f"القطعة في الموضع {f.index} من الملف ليس لها رقم",
            (), p.geoms[i] if not p.geoms[i].is_empty else None,
        ))
    return out


_DIGIT_RUN = re.compile(r"\d+")


def lot_no_key(lot_no: str) -> str:
    """Return the form in which two lot numbers are compared.

    Unicode compatibility forms are folded (NFKC: full-width １ is 1), every decimal digit of any
    script becomes 0-9 (Arabic-Indic ١ is 1), case and white space are ignored, and leading zeros
    of each run of digits are dropped (01 is 1, A01 is a1).
    """
    text = lot_no
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = "".join(str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
                       for ch in text)
    text = "".join(text.split()).casefold()
    if text.isdecimal():  # the common case, without the regular expression
        return text.lstrip("0") or "0"
    return _DIGIT_RUN.sub(lambda m: m.group(0).lstrip("0") or "0", text)


@rule("DUPLICATE_LOT_NO")
def duplicate_lot_no(ctx: PlanContext, p: Prepared) -> list[Finding]:
    """Lots whose numbers are the same once normalised (see ``lot_no_key``)."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i in p.lot_idx:
        no = ctx.features[i].lot_no
        if no is not None and str(no).strip():
            by_key[lot_no_key(str(no))].append(int(i))
    out = []
    for idx in by_key.values():
        if len(idx) < 2:
            continue
        written = list(dict.fromkeys(p.labels[i] for i in idx))
        shown = " / ".join(written[:LISTED_IN_MESSAGE])
        positions = ", ".join(str(ctx.features[i].index) for i in idx[:LISTED_IN_MESSAGE])
        if len(idx) > LISTED_IN_MESSAGE:
            positions += f" and {len(idx) - LISTED_IN_MESSAGE:,} more"
        features, total = named(written)
        out.append(Finding(
            "DUPLICATE_LOT_NO", ERROR,
            f"Lot number {shown} is used by {len(idx):,} lots (file positions {positions})",
            f"رقم القطعة {shown} مستخدم لعدد {len(idx):,} قطع (المواضع في الملف {positions})",
            features, shapely.union_all(p.geoms[idx]), float(len(idx)), 1.0, features_total=total,
        ))
    return out


@rule("LOT_AREA_MIN")
def lot_area_min(ctx: PlanContext, p: Prepared) -> list[Finding]:
    limit = ctx.rules.min_lot_area_m2
    areas = p.areas[p.lot_idx] if len(p.lot_idx) else np.zeros(0)
    out = []
    for i, area in zip(p.lot_idx, areas):
        if round(float(area), 2) >= limit or p.geoms[i].is_empty:  # survey precision: 0.01 m²
            continue
        label = p.labels[i]
        out.append(Finding(
            "LOT_AREA_MIN", ERROR,
            f"Lot {label} has an area of {num(area)} m², under the minimum of {num(limit)} m²",
            f"القطعة {label} مساحتها {num(area)} م²، وهي أقل من الحد الأدنى {num(limit)} م²",
            (label,), p.geoms[i], float(area), limit,
        ))
    return out


@rule("STATED_AREA_MISMATCH")
def stated_area_mismatch(ctx: PlanContext, p: Prepared) -> list[Finding]:
    tol = ctx.rules.area_tolerance_pct
    out = []
    for i, f in enumerate(ctx.features):
        computed = float(p.areas[i])
        if f.stated_area is None or computed <= 0:
            continue
        diff_pct = abs(f.stated_area - computed) / computed * 100
        if diff_pct <= tol:
            continue
        k, label = f.kind, p.labels[i]
        out.append(Finding(
            "STATED_AREA_MISMATCH", WARNING,
            f"{name_en(k, label)} states {num(f.stated_area)} m² but measures {num(computed)} m² ({diff_pct:.2f}% apart, over {tol}%)",
            f"{name_ar(k, label)} مساحتها المذكورة {num(f.stated_area)} م² والمحسوبة {num(computed)} م² (فرق {diff_pct:.2f}% يتجاوز {tol}%)",
            (label,), p.geoms[i], diff_pct, tol,
        ))
    return out

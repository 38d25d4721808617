"""Shared wording for bilingual finding messages, and findings built from it."""
from __future__ import annotations

KIND_EN = {"lot": "Lot", "road": "Road", "open_space": "Open space", "utility": "Utility plot"}
KIND_AR = {"lot": "القطعة", "road": "الشارع", "open_space": "المساحة المفتوحة", "utility": "قطعة المرفق"}


def name_en(kind: str, label: str) -> str:
    return f"{KIND_EN.get(kind, 'Feature')} {label}"


def name_ar(kind: str, label: str) -> str:
    return f"{KIND_AR.get(kind, 'العنصر')} {label}"


def num(x: float) -> str:
    """Format a measurement with at most one decimal."""
    return f"{x:.1f}".removesuffix(".0") if abs(x) < 1e15 else f"{x:.3g}"


def parts_outside(code: str, p, indices, parts, tol: float, en: str, ar: str) -> list:
    """Return one error per feature part over TOL m², worded by EN/AR ('{name}', '{area}' filled in)."""
    from ..findings import ERROR, Finding

    out = []
    for i, part in zip(indices, parts):
        area = part.area
        if area <= tol:
            continue
        k, label = p.kinds[i], p.labels[i]
        out.append(Finding(
            code, ERROR,
            en.format(name=name_en(k, label), area=num(area)),
            ar.format(name=name_ar(k, label), area=num(area)),
            (label,), part, area, tol,
        ))
    return out

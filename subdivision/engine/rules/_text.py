"""Shared wording for bilingual finding messages, and findings built from it."""
from __future__ import annotations

KIND_EN = {"lot": "Lot", "road": "Road", "open_space": "Open space", "utility": "Utility plot"}
KIND_AR = {"lot": "القطعة", "road": "الشارع", "open_space": "المساحة المفتوحة", "utility": "قطعة المرفق"}


def name_en(kind: str, label: str) -> str:
    return f"{KIND_EN.get(kind, 'Feature')} {label}"


def name_ar(kind: str, label: str) -> str:
    return f"{KIND_AR.get(kind, 'العنصر')} {label}"


LISTED_IN_MESSAGE = 10


def names_en(kinds, labels) -> str:
    """Return 'Lot 1, Lot 2, … and 7 more' for many features."""
    shown = ", ".join(name_en(k, lb) for k, lb in zip(kinds[:LISTED_IN_MESSAGE], labels[:LISTED_IN_MESSAGE]))
    rest = len(labels) - LISTED_IN_MESSAGE
    return f"{shown} and {rest:,} more" if rest > 0 else shown


def names_ar(kinds, labels) -> str:
    shown = "، ".join(name_ar(k, lb) for k, lb in zip(kinds[:LISTED_IN_MESSAGE], labels[:LISTED_IN_MESSAGE]))
    rest = len(labels) - LISTED_IN_MESSAGE
    return f"{shown} و{rest:,} غيرها" if rest > 0 else shown


def named(labels: list[str]) -> tuple[tuple[str, ...], int | None]:
    """Return (the labels a finding lists, the total when the list is cut) for ``Finding``."""
    from ..findings import MAX_NAMED_FEATURES

    if len(labels) <= MAX_NAMED_FEATURES:
        return tuple(labels), None
    return tuple(labels[:MAX_NAMED_FEATURES]), len(labels)


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

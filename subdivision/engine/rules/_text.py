"""Shared wording for bilingual finding messages."""
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

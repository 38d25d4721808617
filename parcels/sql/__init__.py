"""The registry's bulk SQL, kept in the .sql files beside this module and read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """Return the text of NAME.sql beside this module."""
    return (HERE / f"{name}.sql").read_text(encoding="utf-8")

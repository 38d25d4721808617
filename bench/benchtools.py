"""Helpers every bench script shares (each script runs as `python bench/<name>.py`, so this sits on its path)."""

from __future__ import annotations

import glob
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python() -> str:
    """Return the project's venv Python, or this interpreter when there is no venv."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def find_binary(name: str) -> str | None:
    """Return the path of program NAME on PATH or among the PostgreSQL binaries, or None."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None

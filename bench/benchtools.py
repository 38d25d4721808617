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


# ---- a bench database of its own, in the project-local cluster ---------------------------------
SOCKET = ROOT / "var" / "run"


def bench_environment(db: str, secret_key: str) -> None:
    """Point this process (and its children) at the bench database DB, never at the real one."""
    import os

    os.environ.pop("DATABASE_URL", None)  # it would override GISPORTAL_DB_NAME and point elsewhere
    os.environ["GISPORTAL_DB_NAME"] = db
    os.environ["DJANGO_SETTINGS_MODULE"] = "gisportal.settings"
    os.environ.setdefault("SECRET_KEY", secret_key)
    os.environ["GISPORTAL_DEMO"] = "1"
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.path.insert(0, str(ROOT))


def pg_connect(dbname: str):
    """Return an autocommit connection to DBNAME in the project-local cluster."""
    import os

    import psycopg2

    conn = psycopg2.connect(host=str(SOCKET), port=os.environ.get("GISPORTAL_PGPORT", "5432"), user="gisportal",
                            dbname=dbname)
    conn.autocommit = True
    return conn


def create_database(db: str) -> None:
    """Create DB afresh with PostGIS and migrate it."""
    import os
    import subprocess

    drop_database(db)
    admin = pg_connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
    admin.close()
    conn = pg_connect(db)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.close()
    result = subprocess.run([python(), str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"],
                            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"migrate failed: {(result.stderr or result.stdout).strip()[-2000:]}")


def drop_database(db: str) -> None:
    admin = pg_connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    admin.close()

"""Helpers shared by tests: live servers and throwaway PostgreSQL clusters on this machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PGBIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class ThrowawayCluster:
    """A PostgreSQL + PostGIS cluster of its own, in var/tmp, listening on a Unix socket only."""

    def __init__(self):
        # In the system temporary folder: as root the server runs as `postgres`, which must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="gisportal-test-pg-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.run(
            _as_owner([str(PGBIN / "initdb"), "-D", str(self.data), "-U", "gisportal", "--auth=trust"]),
            check=True, capture_output=True,
        )
        self.port = 5432

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"postgis://gisportal@{quote(str(self.sock), safe='')}:{self.port}/postgres"

    def start(self):
        subprocess.run(
            _as_owner([str(PGBIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.dir / "log"),
                       "-o", f"-k {self.sock} -c listen_addresses='' -c fsync=off", "start"]),
            check=True, capture_output=True,
        )
        subprocess.run(
            [str(PGBIN / "psql"), "-h", str(self.sock), "-U", "gisportal", "-d", "postgres", "-qc",
             "CREATE EXTENSION IF NOT EXISTS postgis"],
            check=True, capture_output=True,
        )

    def stop(self):
        subprocess.run(
            _as_owner([str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            check=False, capture_output=True,
        )

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def live_server(env: dict[str, str] | None = None, workers: int = 1):
    """Run the project under gunicorn on a free loopback port; yield its base URL."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gisportal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "60"],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

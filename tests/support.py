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
    # The log goes to a file, not a pipe: nobody reads a pipe while the server runs, and once its
    # 64 KiB buffer is full (a JSON line per request) gunicorn blocks on write and stops answering.
    log = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in the finally below, after the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "gisportal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "60"],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"gunicorn exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                requests.get(base + "/healthz", timeout=20)  # the first request loads the app; slow on a busy box
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class ThrowawayRedis:
    """A redis-server of its own in /tmp, on a Unix socket only (`port 0`), to start and stop in a test."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="gisportal-test-redis-", dir="/tmp"))
        self.sock = self.dir / "redis.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.sock), "--unixsocketperm", "700",
             "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.sock.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def ensure_local_redis() -> None:
    """Start the project-local Redis (scripts/redis.sh) unless REDIS_URL names another one."""
    if not os.environ.get("REDIS_URL"):
        subprocess.run([str(ROOT / "scripts" / "redis.sh"), "start"], check=True, capture_output=True)

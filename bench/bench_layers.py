"""Measure the layer services (vector tiles, WFS 2.0, OGC API Features) against their peers, in one run.

    .venv/bin/python bench/bench_layers.py [--smoke] [--keep] [--reuse-db] [--mixed-seconds 60] [--wrk-seconds 10]

Every server reads the SAME table: the Cambridge parcels (../shared/data/cambridge/cambridge.gpkg, layer
parcels) imported with the platform's importer into a bench database of its own (`gisportal_bench_layers`,
or GISPORTAL_BENCH_LAYERS_DB) on the project-local cluster (var/run socket): parcels_parcel, geometry in
EPSG:3857, status 'active'. The real `gisportal` database is never touched (DATABASE_URL is removed from
every child's environment, GISPORTAL_DB_NAME is forced). Side by side:

  raw SQL      ST_AsMVT(ST_AsMVTGeom(...)) through psycopg2: the physical limit for the same tiles
  MapServer    MapServer 8 FastCGI behind lighttpd (2 mapserv processes): MVT and WFS 2.0
  pygeoapi     pygeoapi (gunicorn, 2 workers, PostgreSQL provider on parcels_parcel, storage CRS 3857)
  platform     this project's gunicorn (the Makefile's worker count) on the bench database, with a Redis
               of the bench's own (var/bench/layers/redis.sock) as Django's cache

Cases and targets (the issue's "Speed" section):
  1. uncached tiles, the 50 fixed tiles z13-z17 (bench/peers/tiles.json): median/p90 ms per tile, the
     platform's cache emptied before every request; median <= 1.25x raw SQL; wrk req/s >= MapServer's
  2. cached tiles: wrk req/s over the 50 tiles, cache warm: >= 3,000 req/s
  3. WFS GetFeature of all Cambridge parcels, GeoJSON and GML 3.2: no slower than MapServer
  4. OGC API items, limit 1,000 and 10,000: no slower than pygeoapi
  5. mixed load (60 s): random tiles over the city, WFS and OGC API pages, parcel API reads, a few writes
     through parcels.services that invalidate tiles: no errors, p50/p99, server RSS flat (last 10 s
     within 10 % of the first 10 s)
Every answer's feature count is checked against PostGIS (MVT decoded with mapbox-vector-tile, GeoJSON
features, GML members): a wrong answer fails its target however fast it is.

It installs what is missing (as root: apt mapserver-bin cgi-mapserver lighttpd wrk redis-server; pygeoapi
into var/bench/pygeoapi-venv, never the project venv), stops every server it started, and drops the bench
database unless --keep. --smoke: one short pass of everything (mixed load 5 s, wrk 2 s), no targets
enforced, exit 0 when it ran. Exit status: 1 when a target is missed or a count is wrong (not in --smoke).
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from benchtools import find_binary, python  # bench/ is on the path

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = ROOT / "bench" / "peers"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"
PYGEOAPI_VENV = ROOT / "var" / "bench" / "pygeoapi-venv"
SOCKET_DIR = ROOT / "var" / "run"
PG_PORT = os.environ.get("GISPORTAL_PGPORT", "5432")
DB = os.environ.get("GISPORTAL_BENCH_LAYERS_DB", "gisportal_bench_layers")  # another name: two runs at once
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DB):
    raise SystemExit(f"GISPORTAL_BENCH_LAYERS_DB must be a plain lower-case identifier, not {DB!r}")
# Generated configs, logs, sockets and profiles of this run (one folder per bench database).
WORK = ROOT / "var" / "bench" / ("layers" if DB == "gisportal_bench_layers" else f"layers-{DB}")
MUNICIPALITY = "CAM"
APT_PACKAGES = ("mapserver-bin", "cgi-mapserver", "lighttpd", "wrk", "redis-server")
MAPSERV_PROCS = 2
PYGEOAPI_WORKERS = 2
RATE_UNTRIPPED = "100000000"  # throttle rates: counted in Redis as in production, never reached by the load

# Targets.
TILE_RATIO_MAX = 1.25
CACHED_RPS_MIN = 3000.0
RSS_GROWTH_MAX = 0.10

BBOX_LONLAT = (-71.17, 42.35, -71.06, 42.41)  # holds every Cambridge parcel
GML32 = "application/gml+xml; version=3.2"
SRS_4326 = "urn:ogc:def:crs:EPSG::4326"
OGC_LIMITS = (1000, 10000)

# The platform's parcels layer as raw SQL: same table, rows, attributes and MVT parameters
# (extent 4096, buffer 256, features in the buffered envelope, clipped) as layers/tiles serves.
# (OFFSET 0 keeps PostgreSQL from inlining the inner query and computing ST_AsMVTGeom twice, once for the
# NULL test.)
RAW_TILE_SQL = """
SELECT ST_AsMVT(t, 'parcels', 4096, 'geom', 'fid') FROM (
  SELECT * FROM (
    SELECT ST_AsMVTGeom(p.geom, ST_TileEnvelope(%(z)s, %(x)s, %(y)s)::box2d, 4096, 256, true) AS geom,
           m.code AS municipality, p.parcel_code, p.plan_no, p.block_no, p.parcel_no, p.land_use, p.zone_code,
           p.area_m2::float8 AS area_m2,
           to_char(p.valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS valid_from,
           p.id AS fid
    FROM parcels_parcel p JOIN parcels_municipality m ON m.id = p.municipality_id
    WHERE p.status = 'active' AND p.geom && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 256.0 / 4096)
    OFFSET 0
  ) AS clipped WHERE clipped.geom IS NOT NULL
) AS t
"""
# What PostGIS holds, for the count checks: per tile, the parcels ST_AsMVTGeom keeps from the buffered
# envelope (the platform's and the raw SQL's rule) and those intersecting the tile itself (MapServer's).
EXPECTED_TILE_SQL = """
SELECT count(*) FILTER (WHERE ST_AsMVTGeom(geom, ST_TileEnvelope(%(z)s, %(x)s, %(y)s)::box2d, 4096, 256, true)
                              IS NOT NULL),
       count(*) FILTER (WHERE ST_Intersects(geom, ST_TileEnvelope(%(z)s, %(x)s, %(y)s)))
FROM parcels_parcel
WHERE status = 'active' AND geom && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 256.0 / 4096)
"""
COUNT_ACTIVE_SQL = "SELECT count(*) FROM parcels_parcel WHERE status = 'active' AND NOT ST_IsEmpty(geom)"


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def makefile_workers() -> int:
    """Return the gunicorn worker count `make run` uses (the Makefile is the source of truth)."""
    match = re.search(r"gunicorn .*--workers (\d+)", (ROOT / "Makefile").read_text())
    return int(match.group(1)) if match else 3


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GISPORTAL_TEST_DB", "REDIS_URL")}
    env.update(GISPORTAL_DB_NAME=DB, DJANGO_SETTINGS_MODULE="gisportal.settings", GISPORTAL_DEMO="0",
               PYTHONDONTWRITEBYTECODE="1", REDIS_URL=f"unix://{WORK / 'redis.sock'}")
    if not env.get("SECRET_KEY"):
        secret = ROOT / "var" / "secret_key"
        env["SECRET_KEY"] = secret.read_text().strip() if secret.exists() else "bench-layers"
    env.update(extra)
    return env


# ---- set-up: packages, pygeoapi venv, database ------------------------------------------------------
def missing_packages() -> list[str]:
    missing = []
    for package in APT_PACKAGES:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
                                check=False)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def ensure_packages() -> str | None:
    """Install the peers' Debian packages when missing; return why it cannot, or None."""
    missing = missing_packages()
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"missing Debian packages; run: sudo apt-get install -y --no-install-recommends {' '.join(missing)}"
    log(f"apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return None


def ensure_pygeoapi_venv() -> None:
    """Create var/bench/pygeoapi-venv with bench/peers/requirements-pygeoapi.txt (again when it changed)."""
    requirements = PEERS_DIR / "requirements-pygeoapi.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = PYGEOAPI_VENV / ".requirements.sha256"
    if (PYGEOAPI_VENV / "bin" / "pygeoapi").exists() and stamp.exists() and stamp.read_text() == digest:
        return
    log(f"creating {PYGEOAPI_VENV.relative_to(ROOT)} (pip install pygeoapi ...)")
    base = shutil.which("python3.11") or shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(PYGEOAPI_VENV)], check=True)
    pip = str(PYGEOAPI_VENV / "bin" / "pip")
    subprocess.run([pip, "install", "-q", "--upgrade", "pip"], check=True, stderr=subprocess.DEVNULL)
    subprocess.run([pip, "install", "-q", "-r", str(requirements)], check=True, stderr=subprocess.DEVNULL)
    stamp.write_text(digest)


class Database:
    """The bench database on the project-local cluster, loaded with Cambridge by the platform's importer."""

    def __init__(self, data: Path):
        self.data = data
        self.psql = find_binary("psql")
        self.env = child_env()

    def sql(self, statement: str, db: str = DB) -> str:
        result = subprocess.run(
            [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(SOCKET_DIR), "-p", PG_PORT,
             "-U", "gisportal", "-d", db, "-c", statement], capture_output=True, text=True, env=self.env, check=False)
        if result.returncode:
            raise RuntimeError(f"psql failed on {statement!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    def manage(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run([python(), str(ROOT / "manage.py"), *args], cwd=ROOT, env=env or self.env,
                                capture_output=True, text=True, check=False)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {(result.stderr or result.stdout)[-2000:]}")
        return result.stdout

    def exists(self) -> bool:
        return self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'", db="postgres") == "1"

    def loaded(self) -> bool:
        try:
            return int(self.sql("SELECT count(*) FROM parcels_parcel p JOIN parcels_municipality m "
                                f"ON m.id = p.municipality_id WHERE m.code = '{MUNICIPALITY}'")) > 0
        except RuntimeError:
            return False

    def create(self, *, reuse: bool) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        if reuse and self.exists() and self.loaded():
            log(f"reusing database {DB} (--reuse-db); migrating")
            self.manage("migrate", "--no-input", "-v", "0")
        else:
            log(f"creating database {DB}, migrating, importing {self.data.name} with import_parcels")
            self.sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
            self.sql(f"CREATE DATABASE {DB}", db="postgres")
            self.sql("CREATE EXTENSION IF NOT EXISTS postgis")
            self.manage("migrate", "--no-input", "-v", "0")
            out = self.manage("import_parcels", str(self.data), "--layer", "parcels", "--municipality", MUNICIPALITY,
                              "--create-municipality", "--name", "Cambridge", "--code-field", "id",
                              "--map", "plan_no=MAP", "--map", "parcel_no=LOT", "--no-progress",
                              "--rejects", str(WORK / "cambridge.rejects.csv"))
            log("  " + (out.strip().splitlines() or [""])[-1])
            self.sql("VACUUM ANALYZE parcels_parcel")
        self.manage("ensure_demo_accounts", env=dict(self.env, GISPORTAL_DEMO="1"))

    def api_token(self) -> str:
        out = self.manage("api_token", "planner", env=dict(self.env, GISPORTAL_DEMO="1"))
        return out.strip().splitlines()[-1].strip()

    def drop(self) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")


def pg_connect():
    import psycopg2

    conn = psycopg2.connect(host=str(SOCKET_DIR), port=PG_PORT, user="gisportal", dbname=DB)
    conn.autocommit = True
    return conn


# ---- servers ------------------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base: str
    pid_file: Path | None = None

    def pids(self) -> list[int]:
        """The server's processes: its main process and every descendant (workers, FastCGI children)."""
        return [self.process.pid, *descendants(self.process.pid)]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
            ppid = int(text[text.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(stat.split("/")[2]))
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def wait_http(url: str, *, process: subprocess.Popen, timeout_s: float = 60) -> None:
    import urllib3

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before answering {url}")
        try:
            if urllib3.request("GET", url, timeout=5, retries=False).status < 500:
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout_s:.0f} s")


def render(template: str, target: Path, values: dict[str, str]) -> None:
    text = (PEERS_DIR / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    target.write_text(text)


class Servers:
    """Start the Redis, MapServer, pygeoapi and platform servers; stop every one of them at the end."""

    def __init__(self) -> None:
        self.started: list[Server] = []
        self.redis: Server | None = None
        self.mapserver: Server | None = None
        self.pygeoapi: Server | None = None
        self.platform: Server | None = None
        self.ports = {name: free_port() for name in ("mapserver", "pygeoapi", "platform")}

    def start_all(self) -> None:
        for sub in ("ms", "www", "pygeoapi", "log"):
            (WORK / sub).mkdir(parents=True, exist_ok=True)
        values = {"WORK": str(WORK), "MS_PORT": str(self.ports["mapserver"]), "MS_PROCS": str(MAPSERV_PROCS),
                  "PG_SOCKET": str(SOCKET_DIR), "PG_PORT": PG_PORT, "PG_DB": DB,
                  "PYGEOAPI_PORT": str(self.ports["pygeoapi"])}
        render("parcels.map.in", WORK / "parcels.map", values)
        render("mapserver.conf.in", WORK / "mapserver.conf", values)
        render("lighttpd.conf.in", WORK / "lighttpd.conf", values)
        render("pygeoapi.yml.in", WORK / "pygeoapi" / "config.yml", values)
        self.start_redis()
        self.start_mapserver()
        self.start_pygeoapi()
        self.start_platform()

    def _spawn(self, name: str, cmd: list[str], *, env: dict | None = None, base: str = "",
               log_name: str | None = None) -> Server:
        with open(WORK / "log" / (log_name or f"{name}.log"), "ab") as out:
            process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        server = Server(name, process, base)
        self.started.append(server)
        return server

    def start_redis(self) -> None:
        sock = WORK / "redis.sock"
        sock.unlink(missing_ok=True)
        conf = WORK / "redis.conf"
        # As scripts/redis.sh configures the project's Redis, but in the foreground and on a socket of
        # the bench's own: emptying it between uncached passes touches nobody else's cache.
        conf.write_text(f"port 0\nunixsocket {sock}\nunixsocketperm 700\ndaemonize no\ndir {WORK}\n"
                        f"save \"\"\nappendonly no\nmaxmemory 256mb\nmaxmemory-policy allkeys-lru\n")
        self.redis = self._spawn("redis", [shutil.which("redis-server"), str(conf)])
        import redis

        client = redis.Redis(unix_socket_path=str(sock))
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.RedisError:
                time.sleep(0.05)
        self.redis_client = client

    def start_mapserver(self) -> None:
        shutil.chown(WORK / "ms", "www-data", "www-data") if os.geteuid() == 0 else None
        (WORK / "ms" / "mapserver.log").touch()
        shutil.chown(WORK / "ms" / "mapserver.log", "www-data", "www-data") if os.geteuid() == 0 else None
        port = self.ports["mapserver"]
        self.mapserver = self._spawn("mapserver", ["lighttpd", "-D", "-f", str(WORK / "lighttpd.conf")],
                                     base=f"http://127.0.0.1:{port}")
        wait_http(f"{self.mapserver.base}/mapserv?SERVICE=WFS&REQUEST=GetCapabilities&VERSION=2.0.0",
                  process=self.mapserver.process)

    def start_pygeoapi(self) -> None:
        port = self.ports["pygeoapi"]
        config = WORK / "pygeoapi" / "config.yml"
        openapi = WORK / "pygeoapi" / "openapi.yml"
        env = dict(os.environ, PYGEOAPI_CONFIG=str(config), PYGEOAPI_OPENAPI=str(openapi))
        env.pop("DATABASE_URL", None)
        subprocess.run([str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                        "--output-file", str(openapi)], env=env, check=True, capture_output=True)
        self.pygeoapi = self._spawn(
            "pygeoapi", [str(PYGEOAPI_VENV / "bin" / "gunicorn"), "-w", str(PYGEOAPI_WORKERS), "-b",
                         f"127.0.0.1:{port}", "--timeout", "300", "--access-logfile", "/dev/null",
                         "pygeoapi.flask_app:APP"], env=env, base=f"http://127.0.0.1:{port}")
        wait_http(f"{self.pygeoapi.base}/collections/parcels?f=json", process=self.pygeoapi.process)

    def start_platform(self) -> None:
        port = self.ports["platform"]
        env = child_env(GISPORTAL_PARTNER_RATE=RATE_UNTRIPPED, GISPORTAL_USER_RATE=RATE_UNTRIPPED,
                        GISPORTAL_ANON_RATE=RATE_UNTRIPPED)
        # As `make run` serves (same workers and timeout), in the foreground so the bench owns the process.
        self.platform = self._spawn(
            "platform", [str(ROOT / ".venv" / "bin" / "gunicorn"), "gisportal.wsgi:application", "--bind",
                         f"127.0.0.1:{port}", "--workers", str(makefile_workers()), "--timeout", "120"],
            env=env, base=f"http://127.0.0.1:{port}")
        wait_http(f"{self.platform.base}/healthz", process=self.platform.process)

    def stop_all(self) -> None:
        for server in reversed(self.started):
            if server.process.poll() is not None:
                continue
            kids = descendants(server.process.pid)  # lighttpd does not stop its FastCGI children itself
            try:
                os.killpg(server.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait(timeout=5)
            for kid in kids:
                try:
                    os.kill(kid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            log(f"stopped {server.name} (pid {server.process.pid})")
        self.started.clear()


# ---- measuring ----------------------------------------------------------------------------------------
def count_features(kind: str, body: bytes) -> int:
    """Return the number of features in an answer: kind mvt, geojson (distinct ids with a geometry) or gml."""
    if kind == "mvt":
        if not body:
            return 0
        import mapbox_vector_tile

        return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(body).values())
    if kind == "geojson":
        # Only features with a geometry count, and each id once (MapServer's OGR output keeps the id among
        # the properties): a duplicate or an empty feature is not an answer.
        features = [f for f in json.loads(body).get("features", []) if f.get("geometry")]
        ids = [f.get("id", (f.get("properties") or {}).get("id")) for f in features]
        return len(set(ids)) if None not in ids else len(features)
    if kind == "gml":
        members = len(re.findall(rb"<(?:\w+:)?member[\s>]", body))
        return members or len(re.findall(rb"<(?:\w+:)?featureMember[\s>]", body))
    raise ValueError(kind)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else float("nan")

    @property
    def p90(self) -> float:
        return percentile(self.samples_ms, 90) if self.samples_ms else float("nan")


class Http:
    def __init__(self) -> None:
        import urllib3

        self.pool = urllib3.PoolManager(maxsize=4, retries=False,
                                        timeout=urllib3.Timeout(connect=5, read=300))

    def fresh(self) -> None:
        """Drop idle keep-alive connections: a server may have closed them since (lighttpd after 5 s idle)."""
        self.pool.clear()

    def get(self, url: str, headers: dict | None = None) -> tuple[int, bytes, float, dict]:
        t0 = time.perf_counter()
        try:
            response = self.pool.request("GET", url, headers=headers, preload_content=True)
            status, body, response_headers = response.status, response.data, dict(response.headers)
        except Exception as exc:  # refused, reset, timeout: an error answer, not a crash of the bench
            status, body, response_headers = 599, str(exc).encode(), {}
        return status, body, (time.perf_counter() - t0) * 1000, response_headers


class CpuWatch:
    """CPU used on the machine by processes that are not the bench's, in % of all cores, per case."""

    CLK = os.sysconf("SC_CLK_TCK")

    def __init__(self, servers: Servers):
        self.servers = servers

    def _ours(self) -> set[int]:
        ours = {os.getpid(), *descendants(os.getpid())}
        for server in self.servers.started:
            ours.update(server.pids())
        # PostgreSQL backends serving the bench database name it in their process title, and their parallel
        # workers name the backend they work for.
        titles = {}
        for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                titles[int(cmdline.split("/")[2])] = Path(cmdline).read_bytes()
            except OSError:
                continue
        named = re.compile(rb" " + DB.encode() + rb"(?:[ \x00]|$)")  # also the autovacuum workers on it
        backends = {pid for pid, title in titles.items() if named.search(title)}
        for pid, title in titles.items():
            m = re.search(rb"parallel worker for PID (\d+)", title)
            if m and int(m.group(1)) in backends:
                ours.add(pid)
        return ours | backends

    def snapshot(self) -> tuple[int, dict[int, int]]:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
        ticks = {}
        for pid in self._ours():
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
                ticks[pid] = sum(int(x) for x in text[text.rindex(")") + 2:].split()[11:13])
            except (OSError, ValueError):
                continue
        return busy, ticks

    def foreign_pct(self, start, end, wall_s: float) -> float:
        ours = sum(end[1].get(pid, 0) - t for pid, t in start[1].items() if pid in end[1])
        ours += sum(t for pid, t in end[1].items() if pid not in start[1])
        foreign = max(0, (end[0] - start[0]) - ours) / self.CLK
        return 100 * foreign / (wall_s * (os.cpu_count() or 1)) if wall_s > 0 else 0.0


def run_wrk(base: str, lines: list[str], *, seconds: int, connections: int, tag: str,
            shuffle: bool = False) -> dict:
    """Run wrk over LINES (paths, optionally "PATH<TAB>Header: value") for SECONDS; return its figures."""
    paths = WORK / f"wrk_{tag}.txt"
    paths.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, WRK_PATHS_FILE=str(paths), WRK_SHUFFLE="1" if shuffle else "0")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
           "-s", str(PEERS_DIR / "wrk_paths.lua"), base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False).stdout

    def duration_ms(text: str) -> float | None:
        m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m.group(2)] if m else None

    result: dict = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        result[f"p{pct}_ms"] = duration_ms(m.group(1)) if m else None
    # Printed by wrk_paths.lua: answers per HTTP status and per X-Cache value (the tile views' hit/miss).
    result["counts"] = {f"{k} {v}": int(n) for k, v, n in re.findall(r"^count (status|xcache) (\S+) (\d+)$", out,
                                                                      re.MULTILINE)}
    if not result["requests"]:
        log(f"  wrk gave no figures: {out.strip()[-500:]}")
    return result


@dataclass
class Row:
    """One line of the results table."""

    case: str
    server: str
    median_ms: float | None = None
    p90_ms: float | None = None
    rps: float | None = None
    features: int | None = None
    expected: int | None = None
    errors: int = 0
    foreign_cpu: float | None = None
    note: str = ""
    tiles_wrong: int | None = None  # tile rows: tiles whose feature count is off (beyond the row's tolerance)

    @property
    def count_ok(self) -> bool:
        if self.tiles_wrong is not None:
            return self.tiles_wrong == 0 and self.features is not None
        return self.expected is None or self.features == self.expected


@dataclass
class Target:
    name: str
    ok: bool
    detail: str
    profile: tuple | None = None  # (paths, requests, flush the cache first) to profile when missed


class Bench:
    def __init__(self, servers: Servers, *, smoke: bool, wrk_seconds: int, mixed_seconds: int, token: str,
                 quiet_wait_s: float = 0):
        self.servers, self.smoke, self.token, self.quiet_wait_s = servers, smoke, token, quiet_wait_s
        self.wrk_seconds, self.mixed_seconds = wrk_seconds, mixed_seconds
        self.passes = 1 if smoke else 3
        self.http = Http()
        self.cpu = CpuWatch(servers)
        self.rows: list[Row] = []
        self.targets: list[Target] = []
        self.tiles = json.loads((PEERS_DIR / "tiles.json").read_text())
        self.per_tile: dict[str, dict[str, list[float]]] = {}  # server -> tile -> timed ms
        self.conn = pg_connect()

    # -- helpers
    def flush_cache(self) -> None:
        self.servers.redis_client.flushdb()

    def measured(self, row: Row, start=None, t0: float = 0.0) -> Row:
        """Add ROW to the table and log it; START and T0: the CPU snapshot and clock when its case began."""
        if start is not None:
            row.foreign_cpu = self.cpu.foreign_pct(start, self.cpu.snapshot(), time.perf_counter() - t0)
        self.rows.append(row)
        flag = "" if row.count_ok else f"  COUNT WRONG (expected {row.expected})"
        figures = []
        if row.median_ms is not None:
            figures.append(f"median {row.median_ms:.1f} ms, p90 {row.p90_ms:.1f} ms")
        if row.rps is not None:
            figures.append(f"{row.rps:.1f} req/s")
        log(f"  {row.case} | {row.server}: {', '.join(figures)}, features {row.features}, errors {row.errors}, "
            f"other CPU {row.foreign_cpu:.0f} %{flag}")
        return row

    def tile_path(self, t: dict) -> str:
        return f"/tiles/parcels/{t['z']}/{t['x']}/{t['y']}.mvt"

    def ms_tile_path(self, t: dict) -> str:
        return f"/mapserv?mode=tile&tilemode=gmap&tile={t['x']}+{t['y']}+{t['z']}&layers=parcels&map=PARCELS"

    # -- expectations from PostGIS
    def expected_tiles(self) -> dict[str, dict[str, int]]:
        """Per tile: features in the buffered envelope (the platform's rule) and intersecting the tile."""
        cur = self.conn.cursor()
        out = {}
        for t in self.tiles:
            cur.execute(EXPECTED_TILE_SQL, t)
            buffered, intersecting = cur.fetchone()
            out[f"{t['z']}/{t['x']}/{t['y']}"] = {"buffered": buffered, "intersecting": intersecting}
        return out

    # -- 1. uncached tiles
    def tiles_uncached(self, expected: dict) -> tuple[Row, Row, Row]:
        """Time the 50 tiles uncached on raw SQL, MapServer and the platform, interleaved tile by tile (the
        order rotating), so that all three see the same load from the rest of the machine."""
        platform, mapserver = self.servers.platform, self.servers.mapserver
        cur = self.conn.cursor()

        def raw_sql(t: dict) -> tuple[int, bytes]:
            cur.execute(RAW_TILE_SQL, t)
            return 200, bytes(cur.fetchone()[0] or b"")

        def over_http(base: str, path_of, flush: bool):
            def get(t: dict) -> tuple[int, bytes]:
                if flush:
                    self.flush_cache()  # not timed: the time starts below, after the flush
                t1 = time.perf_counter()
                status, body, _, _ = self.http.get(base + path_of(t))
                get.ms = (time.perf_counter() - t1) * 1000
                return status, body
            return get

        # MapServer keeps only the parcels that intersect the tile itself, and is known to drop one that only
        # touches its edge in a few tiles (../shared/peers/README.md): 1 parcel a tile is tolerated, for it only.
        servers = [("raw SQL (psycopg2)", raw_sql, "buffered", 0),
                   ("MapServer 8 FastCGI", over_http(mapserver.base, self.ms_tile_path, False), "intersecting", 1),
                   ("platform", over_http(platform.base, self.tile_path, True), "buffered", 0)]
        log(f"uncached tiles: a counted pass, then {self.passes} timed passes x {len(self.tiles)} tiles, "
            f"raw SQL, MapServer and the platform (cache emptied before each) interleaved")
        self.http.fresh()
        counted = {}
        for name, fetch, rule, tolerance in servers:
            features = errors = wrong = 0
            mismatched = []
            for t in self.tiles:
                status, body = fetch(t)
                if status not in (200, 204):
                    errors += 1
                    continue
                n = count_features("mvt", body)
                features += n
                key = f"{t['z']}/{t['x']}/{t['y']}"
                if n != expected[key][rule]:
                    mismatched.append(f"{key}: {n} != {expected[key][rule]}")
                wrong += abs(n - expected[key][rule]) > tolerance
            counted[name] = (features, errors, wrong, mismatched)
        samples = {name: [] for name, *_ in servers}
        start, t0 = self.cpu.snapshot(), time.perf_counter()
        for p in range(self.passes):
            for i, t in enumerate(self.tiles):
                k = (p + i) % len(servers)
                for name, fetch, _, _ in servers[k:] + servers[:k]:
                    if name.startswith("raw SQL"):
                        t1 = time.perf_counter()
                        fetch(t)
                        ms = (time.perf_counter() - t1) * 1000
                    else:
                        status, _ = fetch(t)
                        ms = fetch.ms
                        if status not in (200, 204):
                            counted[name] = (counted[name][0], counted[name][1] + 1, *counted[name][2:])
                    samples[name].append(ms)
                    self.per_tile.setdefault(name.split(" (")[0], {}).setdefault(
                        f"{t['z']}/{t['x']}/{t['y']}", []).append(ms)
        end, wall = self.cpu.snapshot(), time.perf_counter() - t0
        rows = []
        for name, _, rule, tolerance in servers:
            features, errors, wrong, mismatched = counted[name]
            latency = Latency(samples[name])
            note = "req/s: 2 connections" if name.startswith("raw SQL") else (
                f"count rule: {rule}" + (f" (±{tolerance} a tile)" if tolerance else "")
                + (f"; {len(mismatched)} tiles differ, e.g. {', '.join(mismatched[:2])}" if mismatched else ""))
            row = Row("tiles uncached", name, latency.median, latency.p90, None, features,
                      sum(e[rule] for e in expected.values()), errors, tiles_wrong=wrong, note=note)
            row.foreign_cpu = self.cpu.foreign_pct(start, end, wall)
            rows.append(row)
        sql, ms, plat = rows
        sql.rps = self.sql_throughput()
        for row in rows:
            self.measured(row)
        return sql, ms, plat

    def sql_throughput(self) -> float:
        done = [0, 0]
        stop = time.perf_counter() + (1 if self.smoke else 5)

        def worker(k: int) -> None:
            conn = pg_connect()
            cur, i = conn.cursor(), k
            while time.perf_counter() < stop:
                cur.execute(RAW_TILE_SQL, self.tiles[i % len(self.tiles)])
                cur.fetchone()
                done[k] += 1
                i += 1
            conn.close()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return sum(done) / (time.perf_counter() - t0)

    def extra_per_tile(self, server: str) -> str:
        """Return what SERVER adds to the raw SQL per tile: the median over the tiles of the per-tile medians'
        difference, for small (raw SQL under 5 ms) and the other tiles."""
        ours, sql = self.per_tile.get(server, {}), self.per_tile.get("raw SQL", {})
        small, large = [], []
        for key, samples in sql.items():
            if key in ours:
                base = statistics.median(samples)
                (small if base < 5 else large).append(statistics.median(ours[key]) - base)
        parts = [f"{statistics.median(v):+.1f} ms a tile over {len(v)} {name} tiles"
                 for name, v in (("small", small), ("larger", large)) if v]
        return "per tile vs raw SQL: " + ", ".join(parts)

    def tiles_wrk(self, row: Row, base: str, paths: list[str], *, flush_during: bool) -> None:
        """Add wrk req/s over the 50 tiles to ROW; FLUSH_DURING empties the platform's cache continuously."""
        stop = threading.Event()

        def flusher() -> None:
            while not stop.is_set():
                self.flush_cache()
                stop.wait(0.02)
        thread = threading.Thread(target=flusher) if flush_during else None
        if thread:
            thread.start()
        try:
            result = run_wrk(base, paths, seconds=self.wrk_seconds, connections=4, tag=row.server.split()[0])
        finally:
            stop.set()
            if thread:
                thread.join()
        row.rps = result["rps"]
        row.errors += result["non2xx"] + result["socket_errors"]
        if flush_during:
            counts = result["counts"]
            row.note += (f"; wrk with the cache emptied every 20 ms: X-Cache miss {counts.get('xcache miss', 0)}, "
                         f"hit {counts.get('xcache hit', 0)}")
        log(f"  wrk {row.server}: {row.rps:.1f} req/s, p99 {result['p99_ms']} ms, "
            f"errors {result['non2xx'] + result['socket_errors']}")

    def tiles_cached(self, expected: dict) -> Row:
        platform = self.servers.platform
        log(f"cached tiles, platform: warm the cache, then wrk {self.wrk_seconds} s")
        self.flush_cache()
        self.http.fresh()
        for t in self.tiles:
            self.http.get(platform.base + self.tile_path(t))
        start, t0 = self.cpu.snapshot(), time.perf_counter()
        latency, features, errors = Latency(), 0, 0
        for t in self.tiles:
            status, body, ms, _ = self.http.get(platform.base + self.tile_path(t))
            errors += status not in (200, 204)
            features += count_features("mvt", body) if status == 200 else 0
            latency.samples_ms.append(ms)
        result = run_wrk(platform.base, [self.tile_path(t) for t in self.tiles], seconds=self.wrk_seconds,
                         connections=4, tag="cached")
        hits = result["counts"].get("xcache hit", 0)
        row = Row("tiles cached", "platform", latency.median, latency.p90, result["rps"], features,
                  sum(e["buffered"] for e in expected.values()), errors + result["non2xx"] + result["socket_errors"],
                  note=f"wrk p99 {result['p99_ms']} ms; X-Cache hit {hits} of {result['requests']} requests")
        return self.measured(row, start, t0)

    # -- 3. WFS and 4. OGC API: one URL, paged when the server caps the count
    def fetch_all(self, url: str, kind: str, *, expected: int, paging: str) -> tuple[int, bytes, float, int, int]:
        """GET URL and, while fewer than EXPECTED features came, the next pages; return status, first body,
        total ms, features, requests."""
        total_ms, features, requests, first = 0.0, 0, 0, None
        next_url: str | None = url
        status = 200
        while next_url:
            status, body, ms, _ = self.http.get(next_url)
            requests += 1
            total_ms += ms
            if status != 200:
                return status, body, total_ms, features, requests
            first = first if first is not None else body
            n = count_features(kind, body)
            features += n
            next_url = None
            if n and features < expected and requests < 50:
                next_url = self.next_page(url, body, kind, features, paging)
        return status, first or b"", total_ms, features, requests

    @staticmethod
    def next_page(url: str, body: bytes, kind: str, offset: int, paging: str) -> str | None:
        if kind == "geojson":
            for link in json.loads(body).get("links", []):
                if link.get("rel") == "next" and link.get("href"):
                    return link["href"]
        else:
            m = re.search(rb'\bnext="([^"]+)"', body)
            if m:
                return m.group(1).decode().replace("&amp;", "&")
        # No link: ask for the next page by offset.
        parts = urllib.parse.urlsplit(url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k.lower() != paging.lower()]
        query.append((paging, str(offset)))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def single_case(self, case: str, server: str, url: str, kind: str, *, expected: int, paging: str) -> Row:
        log(f"{case}, {server}")
        self.http.fresh()
        start, t0 = self.cpu.snapshot(), time.perf_counter()
        status, body, _, features, requests = self.fetch_all(url, kind, expected=expected, paging=paging)
        errors = int(status != 200)
        if status != 200:
            log(f"  {server} answered {status}: {body[:300]!r}")
        latency = Latency()
        n_min, n_max, budget = (1, 1, 0) if self.smoke else (3, 10, 20.0)
        end = time.perf_counter() + budget
        while status == 200 and len(latency.samples_ms) < n_max and (
                len(latency.samples_ms) < n_min or time.perf_counter() < end):
            st, _, ms, _, _ = self.fetch_all(url, kind, expected=expected, paging=paging)
            errors += st != 200
            latency.samples_ms.append(ms)
        note = f"{requests} requests (paged)" if requests > 1 else ""
        row = Row(case, server, latency.median if latency.samples_ms else None,
                  latency.p90 if latency.samples_ms else None, None, features, expected, errors, note=note)
        return self.measured(row, start, t0)

    def wfs_url(self, base: str, path: str, fmt: str, typename: str) -> str:
        query = urllib.parse.urlencode({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
                                        "TYPENAMES": typename, "COUNT": "20000", "OUTPUTFORMAT": fmt,
                                        "SRSNAME": SRS_4326})
        return f"{base}{path}?{query}"

    def wait_quiet(self, max_s: float) -> None:
        """Wait up to MAX_S for other processes to use under 25 % of the machine (it is shared)."""
        end = time.monotonic() + max_s
        while True:
            start = self.cpu.snapshot()
            time.sleep(3)
            foreign = self.cpu.foreign_pct(start, self.cpu.snapshot(), 3)
            if foreign < 25 or time.monotonic() >= end:
                log(f"other processes use {foreign:.0f} % of the CPUs; starting"
                    + ("" if foreign < 25 else f" anyway (waited {max_s:.0f} s)"))
                return
            log(f"other processes use {foreign:.0f} % of the CPUs; waiting (at most {max_s:.0f} s)")

    def warm_up(self) -> None:
        """Send every worker of every server a few small requests first (imports, reflection, connections)."""
        platform, mapserver, pygeoapi = self.servers.platform, self.servers.mapserver, self.servers.pygeoapi
        tile = self.tiles[-1]
        urls = [platform.base + self.tile_path(tile), mapserver.base + self.ms_tile_path(tile),
                f"{platform.base}/ogc/collections/parcels/items?limit=1&f=json",
                f"{pygeoapi.base}/collections/parcels/items?limit=1&f=json",
                self.wfs_url(platform.base, "/wfs", "application/json", "parcels").replace("COUNT=20000", "COUNT=1"),
                self.wfs_url(mapserver.base, "/mapserv", "geojson", "parcels").replace("COUNT=20000", "COUNT=1")
                + "&map=PARCELS"]
        for url in urls:
            self.http.fresh()
            statuses = {self.http.get(url)[0] for _ in range(6)}
            if statuses - {200, 204}:
                log(f"  warm-up: {url} answered {sorted(statuses)}")

    # -- the whole run
    def run(self) -> None:
        platform, mapserver, pygeoapi = self.servers.platform, self.servers.mapserver, self.servers.pygeoapi
        if not self.smoke:
            self.wait_quiet(self.quiet_wait_s)
        self.warm_up()
        cur = self.conn.cursor()
        cur.execute(COUNT_ACTIVE_SQL)
        total = cur.fetchone()[0]
        log(f"PostGIS: {total} active parcels with a geometry in {DB}")
        expected = self.expected_tiles()
        log(f"PostGIS: {sum(e['buffered'] for e in expected.values())} features in the 50 buffered tiles, "
            f"{sum(e['intersecting'] for e in expected.values())} intersecting the tiles themselves")

        # 1. uncached tiles
        sql, ms, plat = self.tiles_uncached(expected)
        self.tiles_wrk(ms, mapserver.base, [self.ms_tile_path(t) for t in self.tiles], flush_during=False)
        self.tiles_wrk(plat, platform.base, [self.tile_path(t) for t in self.tiles], flush_during=True)
        ratio = plat.median_ms / sql.median_ms
        tile_paths = [self.tile_path(t) for t in self.tiles]
        self.target(f"uncached tile median <= {TILE_RATIO_MAX}x raw SQL", ratio <= TILE_RATIO_MAX and plat.count_ok,
                    f"{ratio:.2f}x ({plat.median_ms:.1f} ms vs {sql.median_ms:.1f} ms); "
                    f"{self.extra_per_tile('platform')}", plat, profile=(tile_paths, 100, True))
        self.target("uncached tile req/s >= MapServer's", plat.rps >= ms.rps and plat.count_ok,
                    f"{plat.rps / ms.rps:.2f}x ({plat.rps:.1f} vs {ms.rps:.1f} req/s)", plat,
                    profile=(tile_paths, 100, True))

        # 2. cached tiles
        cached = self.tiles_cached(expected)
        self.target(f"cached tiles >= {CACHED_RPS_MIN:,.0f} req/s", cached.rps >= CACHED_RPS_MIN and cached.count_ok,
                    f"{cached.rps:,.0f} req/s ({cached.rps / CACHED_RPS_MIN:.2f}x the target)", cached,
                    profile=([self.tile_path(t) for t in self.tiles], 2000, False))

        # 3. WFS GetFeature, all parcels
        for fmt_name, kind, ms_fmt, plat_fmt in (("GeoJSON", "geojson", "geojson", "application/json"),
                                                 ("GML 3.2", "gml", GML32, GML32)):
            case = f"WFS GetFeature all, {fmt_name}"
            peer = self.single_case(case, "MapServer 8 FastCGI", self.wfs_url(mapserver.base, "/mapserv", ms_fmt,
                                                                            "parcels") + "&map=PARCELS",
                                    kind, expected=total, paging="STARTINDEX")
            url = self.wfs_url(platform.base, "/wfs", plat_fmt, "parcels")
            ours = self.single_case(case, "platform", url, kind, expected=total, paging="STARTINDEX")
            self.compare(case, ours, peer, "MapServer", profile=([url[len(platform.base):]], 3, False))

        # 4. OGC API items
        for limit in OGC_LIMITS:
            case = f"OGC API items limit={limit:,}"
            want = min(limit, total)
            peer = self.single_case(case, "pygeoapi", f"{pygeoapi.base}/collections/parcels/items?limit={limit}&f=json",
                                    "geojson", expected=want, paging="offset")
            path = f"/ogc/collections/parcels/items?limit={limit}&f=json"
            ours = self.single_case(case, "platform", platform.base + path, "geojson", expected=want, paging="offset")
            self.compare(case, ours, peer, "pygeoapi", profile=([path], 3, False))

        # 5. mixed load
        self.mixed_load(total)

    def compare(self, case: str, ours: Row, peer: Row, peer_name: str, profile: tuple | None = None) -> None:
        if ours.median_ms is None or peer.median_ms is None:
            self.target(f"{case}: no slower than {peer_name}", False, "no timing (error answer)", ours)
            return
        ratio = ours.median_ms / peer.median_ms
        detail = f"{ratio:.2f}x ({ours.median_ms:.0f} ms vs {peer.median_ms:.0f} ms)"
        if not peer.count_ok or peer.errors:
            detail += f"; the peer's answer is wrong ({peer.features} features, {peer.errors} errors)"
        self.target(f"{case}: no slower than {peer_name}", ratio <= 1.0 and ours.count_ok and not ours.errors,
                    detail, ours, profile=profile)

    def target(self, name: str, ok: bool, detail: str, row: Row | None = None, profile: tuple | None = None) -> None:
        if row is not None and not row.count_ok:
            detail += f"; WRONG COUNT {row.features} != {row.expected}"
        if row is not None and row.errors:
            detail += f"; {row.errors} error answers"
        self.targets.append(Target(name, ok, detail, profile))

    def mixed_paths(self, total: int) -> list[str]:
        """The mixed load's requests, shuffled: tiles at random z/x/y over the city, WFS and OGC API pages,
        parcel API reads (with the planner's token)."""
        import math

        rng = random.Random(9)
        cur = self.conn.cursor()
        cur.execute("SELECT parcel_code FROM parcels_parcel WHERE status = 'active' ORDER BY random() LIMIT 300")
        codes = [r[0] for r in cur.fetchall()]

        def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
            n = 2 ** z
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            return x, y
        lines = []
        for _ in range(3000):
            roll = rng.random()
            if roll < 0.6:
                z = rng.choice((13, 14, 14, 15, 15, 15, 16, 16, 16, 16, 17, 17, 17, 17, 17))
                x0, y1 = tile_of(-71.1601, 42.3521, z)
                x1, y0 = tile_of(-71.0654, 42.4038, z)
                lines.append(f"/tiles/parcels/{z}/{rng.randint(x0, x1)}/{rng.randint(y0, y1)}.mvt")
            elif roll < 0.72:
                fmt = rng.choice(("application/json", GML32))
                query = urllib.parse.urlencode({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
                                                "TYPENAMES": "parcels", "COUNT": "100",
                                                "STARTINDEX": str(rng.randrange(0, total - 100)),
                                                "OUTPUTFORMAT": fmt})
                lines.append(f"/wfs?{query}")
            elif roll < 0.84:
                lines.append(f"/ogc/collections/parcels/items?limit=100&offset={rng.randrange(0, total - 100)}&f=json")
            elif roll < 0.92:
                lines.append(f"/api/parcels/{MUNICIPALITY}/{rng.choice(codes)}/\tAuthorization: Token {self.token}")
            else:
                lines.append(f"/api/parcels/?municipality={MUNICIPALITY}&page={rng.randint(1, 100)}&page_size=50"
                             f"\tAuthorization: Token {self.token}")
        return lines

    def mixed_load(self, total: int) -> None:
        platform = self.servers.platform
        seconds = self.mixed_seconds
        log(f"mixed load on the platform: {seconds} s, wrk 4 connections + a writer through parcels.services")
        lines = self.mixed_paths(total)
        for kind, line in {"tile": next(l for l in lines if l.startswith("/tiles/")),
                           "WFS page": next(l for l in lines if l.startswith("/wfs")),
                           "OGC API page": next(l for l in lines if l.startswith("/ogc")),
                           "parcel API": next(l for l in lines if l.startswith("/api/"))}.items():
            path, _, header = line.partition("\t")
            name, _, value = header.partition(": ")
            status = self.http.get(platform.base + path, {name: value} if header else None)[0]
            log(f"  probe {kind}: {status} {path[:100]}")
        self.flush_cache()
        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample_rss() -> None:
            t0 = time.perf_counter()
            while not stop.is_set():
                samples.append((time.perf_counter() - t0, rss_mb(platform.pids())))
                stop.wait(1.0)
        sampler = threading.Thread(target=sample_rss)
        writer = subprocess.Popen([python(), "-c", WRITER, str(seconds)], cwd=ROOT, env=child_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        start, t0 = self.cpu.snapshot(), time.perf_counter()
        sampler.start()
        try:
            result = run_wrk(platform.base, lines, seconds=seconds, connections=4, tag="mixed", shuffle=True)
            out, err = writer.communicate(timeout=120)
        finally:
            stop.set()
            sampler.join()
            if writer.poll() is None:
                writer.kill()
                writer.wait()
        writes = json.loads(next((l[6:] for l in out.splitlines() if l.startswith("WRITES")), "{}") or "{}")
        write_errors = writes.get("errors", 1 if writer.returncode else 0)
        if writer.returncode:
            log(f"  writer failed ({writer.returncode}): {err[-1500:]}")
        window = min(10.0, seconds / 3)
        first = [mb for t, mb in samples if t <= window]
        last = [mb for t, mb in samples if t >= samples[-1][0] - window] if samples else []
        rss_first, rss_last = statistics.fmean(first or [0]), statistics.fmean(last or [0])
        errors = result["non2xx"] + result["socket_errors"] + write_errors
        statuses = ", ".join(f"{k.split()[1]}: {n}" for k, n in sorted(result["counts"].items())
                             if k.startswith("status"))
        row = Row("mixed load", "platform", result["p50_ms"], result["p99_ms"], result["rps"], None, None, errors,
                  note=(f"{result['requests']} requests (status {statuses}), {writes.get('writes', 0)} writes; "
                        "p50/p99 in the ms columns; "
                        f"RSS {rss_first:.0f} MB (first {window:.0f} s) -> {rss_last:.0f} MB (last {window:.0f} s)"))
        self.measured(row, start, t0)
        self.mixed = {"wrk": result, "writes": writes, "rss_first": rss_first, "rss_last": rss_last, "row": row}
        self.target("mixed load: no errors", errors == 0,
                    f"{result['non2xx']} non-2xx, {result['socket_errors']} socket errors, {write_errors} write errors "
                    f"in {result['requests']} requests + {writes.get('writes', 0)} writes; "
                    f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
        growth = (rss_last - rss_first) / rss_first if rss_first else 1.0
        self.target(f"mixed load: server RSS flat (growth <= {RSS_GROWTH_MAX:.0%})", growth <= RSS_GROWTH_MAX,
                    f"{rss_first:.0f} MB -> {rss_last:.0f} MB ({growth:+.1%})")

    # -- report
    def report(self) -> None:
        print()
        print("| case | server | median ms | p90 ms | req/s | features | expected | errors | other CPU % | note |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")

        def num(v, fmt):
            return "–" if v is None else format(v, fmt)
        for r in self.rows:
            print(f"| {r.case} | {r.server} | {num(r.median_ms, ',.1f')} | {num(r.p90_ms, ',.1f')} | "
                  f"{num(r.rps, ',.1f')} | {num(r.features, ',')} | {num(r.expected, ',')} | {r.errors} | "
                  f"{num(r.foreign_cpu, '.0f')} | {r.note} |")
        print()
        print("| target | measured | result |")
        print("|---|---|---|")
        for t in self.targets:
            print(f"| {t.name} | {t.detail} | {'PASS' if t.ok else 'FAIL'} |")
        print()
        results = WORK / "results.json"
        results.write_text(json.dumps({
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "smoke": self.smoke, "nproc": os.cpu_count(),
            "rows": [{**r.__dict__, "count_ok": r.count_ok} for r in self.rows],
            "targets": [{"name": t.name, "ok": t.ok, "detail": t.detail} for t in self.targets],
            "per_tile_median_ms": {server: {tile: statistics.median(v) for tile, v in tiles.items()}
                                   for server, tiles in self.per_tile.items()},
        }, indent=1))
        print(f"results: {results.relative_to(ROOT)}")


# Runs in a child process with django.setup() on the bench database: a write every few seconds through
# parcels.services (a parcel moved by 0.5 m and back), whose "parcels changed" signal drops the tiles
# it covers from the shared Redis cache.
WRITER = r"""
import json, random, sys, time
import django
django.setup()
from django.contrib.gis.geos import GEOSGeometry
from shapely import affinity, wkb
from parcels import services
from parcels.models import Parcel
seconds = float(sys.argv[1])
rng = random.Random(7)
ids = list(Parcel.objects.filter(status="active").values_list("id", flat=True))
writes = errors = 0
end = time.monotonic() + seconds - 1
shift = 0.5  # metres of EPSG:3857, back and forth
while time.monotonic() < end:
    time.sleep(min(3.0, max(0.5, seconds / 20)))
    try:
        parcel = Parcel.objects.get(pk=rng.choice(ids))
        moved = affinity.translate(wkb.loads(bytes(parcel.geom.wkb)), xoff=shift)
        services.parcel_update(parcel=parcel, geom=GEOSGeometry(memoryview(wkb.dumps(moved)), srid=parcel.geom.srid),
                               source="bench_layers mixed load")
        writes += 1
        shift = -shift
    except Exception as exc:
        errors += 1
        print("write failed:", repr(exc), file=sys.stderr)
print("WRITES " + json.dumps({"writes": writes, "errors": errors}))
"""


# Runs in a child process on the bench database and the bench's Redis: cProfile over N requests through
# the WSGI application gunicorn serves (gisportal.wsgi: the cached-tile fast path, then Django with its
# middleware), without the HTTP server, to say where the time of a missed target goes.
PROFILE = r"""
import cProfile, io, json, pstats, sys, time
from urllib.parse import urlsplit
import redis
from gisportal.wsgi import application  # what gunicorn serves: the tile fast path, then Django
from django.conf import settings
paths, n, flush = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
flusher = redis.Redis.from_url(settings.REDIS_URL)

def get(path):
    url = urlsplit(path)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": url.path, "QUERY_STRING": url.query, "SCRIPT_NAME": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
               "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
               "wsgi.multiprocess": True, "wsgi.run_once": False}
    status = []
    body = application(environ, lambda s, h, e=None: status.append(s))
    try:
        b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return int(status[0].split()[0])

for path in paths + paths:  # warm: imports, connections and, when not flushed, the cache
    get(path)
profile, spent = cProfile.Profile(), 0.0
for i in range(n):
    if flush:
        flusher.flushdb()
    t0 = time.perf_counter()
    profile.enable()
    status = get(paths[i % len(paths)])
    profile.disable()
    spent += time.perf_counter() - t0
    assert status in (200, 204), status
out = io.StringIO()
stats = pstats.Stats(profile, stream=out)
# Self time of the C calls that wait: psycopg2 (PostgreSQL) and sockets (only Redis uses them here).
db = sum(v[2] for k, v in stats.stats.items() if "psycopg2" in k[2])
redis_io = sum(v[2] for k, v in stats.stats.items() if "_socket.socket" in k[2])
print(f"PROFILED {n} requests, {spent / n * 1000:.2f} ms each in-process (profiler overhead included): "
      f"PostgreSQL {db / n * 1000:.2f} ms, Redis {redis_io / n * 1000:.2f} ms, "
      f"Python {(spent - db - redis_io) / n * 1000:.2f} ms")
stats.sort_stats("tottime").print_stats(15)
stats.sort_stats("cumulative").print_stats(60)
print(out.getvalue())
"""


def profile_case(name: str, paths: list[str], *, n: int, flush: bool) -> None:
    """Profile N requests of PATHS in-process; print the summary, keep the whole profile in var/bench/layers/."""
    log(f"profile: {name} ({n} requests in-process with cProfile)")
    result = subprocess.run([python(), "-c", PROFILE, json.dumps(paths), str(n), "1" if flush else "0"], cwd=ROOT,
                            env=child_env(), capture_output=True, text=True, timeout=600, check=False)
    target = WORK / f"profile_{re.sub('[^a-z0-9]+', '_', name.lower()).strip('_')}.txt"
    target.write_text(result.stdout)
    if result.returncode:
        log(f"  profile failed: {result.stderr[-800:]}")
        return
    lines = result.stdout.splitlines()
    head = next((line for line in lines if line.startswith("PROFILED")), "")
    log(f"  {head}; the whole profile: {target.relative_to(ROOT)}")
    # The top of the self-time table: what the time is spent on.
    tables = [i for i, line in enumerate(lines) if "tottime" in line and "ncalls" in line]
    if tables:
        for line in lines[tables[0]:tables[0] + 11]:
            print(f"    {line.rstrip()[:170]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="one short pass of everything; no targets; exit 0")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database at the end")
    parser.add_argument("--reuse-db", action="store_true", help=f"reuse {DB} when it holds the parcels already")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="length of each wrk case")
    parser.add_argument("--mixed-seconds", type=int, default=60, help="length of the mixed load")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GeoPackage with a 'parcels' layer")
    parser.add_argument("--no-profile", action="store_true", help="do not profile the cases whose target is missed")
    parser.add_argument("--quiet-wait", type=float, default=120,
                        help="seconds to wait at most for other processes to use < 25 %% of the CPUs")
    args = parser.parse_args()
    if args.smoke:
        args.wrk_seconds, args.mixed_seconds = 2, 6

    if not args.data.exists():
        print(f"skipped: parcel data {args.data} absent")
        return 0
    why = ensure_packages()
    if why:
        print(f"skipped: {why}")
        return 0
    if not find_binary("psql"):
        print("skipped: psql absent")
        return 0
    ensure_pygeoapi_venv()
    if subprocess.run([str(ROOT / "scripts" / "pg.sh"), "status"], capture_output=True, check=False).returncode:
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start"], check=True)
    WORK.mkdir(parents=True, exist_ok=True)

    log(f"bench_layers: database {DB}, nproc {os.cpu_count()}, load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}{' (smoke)' if args.smoke else ''}")
    database = Database(args.data)
    database.create(reuse=args.reuse_db)
    token = database.api_token()
    servers = Servers()
    bench = None
    interrupted = {"signal": None}

    def on_signal(signum, _frame):
        interrupted["signal"] = signum
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        servers.start_all()
        log(f"servers: platform {servers.platform.base} ({makefile_workers()} workers), MapServer "
            f"{servers.mapserver.base} ({MAPSERV_PROCS} FastCGI), pygeoapi {servers.pygeoapi.base} "
            f"({PYGEOAPI_WORKERS} workers), Redis {WORK / 'redis.sock'}")
        bench = Bench(servers, smoke=args.smoke, wrk_seconds=args.wrk_seconds, mixed_seconds=args.mixed_seconds,
                      token=token, quiet_wait_s=args.quiet_wait)
        bench.run()
        if not args.smoke and not args.no_profile:
            profiled = set()
            for target in bench.targets:
                if not target.ok and target.profile and repr(target.profile[:2]) not in profiled:
                    profiled.add(repr(target.profile[:2]))
                    paths, n, flush = target.profile
                    profile_case(target.name, paths, n=n, flush=flush)
    except KeyboardInterrupt:
        log(f"interrupted ({'SIGTERM' if interrupted['signal'] else 'Ctrl-C'}): stopping the servers")
        interrupted["stopped"] = True
    finally:
        if bench is not None:
            bench.conn.close()
        servers.stop_all()
        if args.keep:
            log(f"kept database {DB}")
        else:
            database.drop()
    if bench is None or interrupted.get("stopped"):
        return 130
    bench.report()
    failed = [t for t in bench.targets if not t.ok]
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())} "
          "(other work on the machine inflates the numbers; see the other CPU % column)")
    if args.smoke:
        print("smoke run finished")
        return 0
    print(f"{len(bench.targets) - len(failed)}/{len(bench.targets)} targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

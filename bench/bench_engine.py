"""Time validate() on generated plans of growing size.

    .venv/bin/python bench/bench_engine.py [--sizes 100 1000 5000 20000] [--repeat 3] [--smoke]

--smoke runs the smallest size once and does not enforce the targets (a check that the bench still runs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.plan_generator import generate_plan  # noqa: E402
from subdivision.engine import validate  # noqa: E402


def time_validate(n_lots: int, repeat: int) -> tuple[float, object]:
    """Return the best wall time of ``repeat`` validations of an ``n_lots`` plan."""
    ctx = generate_plan(n_lots)
    best, report = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = validate(ctx)
        best = min(best, time.perf_counter() - t0)
    return best, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="smallest size, one round, targets not enforced")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.repeat = [min(args.sizes)], 1

    times: dict[int, float] = {}
    print(f"{'lots':>8} {'features':>9} {'time s':>8} {'ms/lot':>7} {'valid':>6} {'findings':>8} {'public %':>8}")
    for n in args.sizes:
        t, report = time_validate(n, args.repeat)
        times[n] = t
        n_features = len(generate_plan(n).features)
        print(
            f"{n:>8} {n_features:>9} {t:>8.3f} {1000 * t / n:>7.3f} {str(report.valid):>6} "
            f"{len(report.findings):>8} {report.summary['public_share_pct']:>8.2f}",
            flush=True,
        )
        for f in report.findings[:5]:
            print(f"         {f.code} {f.features} {f.message_en}")
    ok = True
    if 1000 in times and 20000 in times:
        ratio = times[20000] / times[1000]
        ok &= ratio <= 30
        print(f"t(20000)/t(1000) = {ratio:.1f}  (target <= 30)")
    if 5000 in times:
        ok &= times[5000] < 3
        print(f"t(5000) = {times[5000]:.2f} s  (target < 3 s)")
    if args.smoke:
        print("smoke run: targets not enforced")
        return 0
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Simulated live migration of a 256 MiB guest: pages per wall second, iterations and downtime.

Run: python benchmarks/bench_migrate.py [--mb 256] [--rate 20000] [--wss 8192]
The guest dirties ``rate`` pages/s round a working set of ``wss`` pages while the 3.0 pre-copy loop
copies it over a 100-500 Mb/s link. Reports the model's speed (pages sent per wall second) and, as a
ratio against a baseline measured in the same run, the cost over plain numpy copying of the same
number of pages between two arrays (the least a copier of real bytes must do). Also prints the
simulated result: iterations, pages per iteration, total time and downtime. Timings on a shared
2-core machine vary by +-30%.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import xenlab
from xenlab.toolstack.migrate import migrate
from xenlab.xen.domain import DomainConfig

MS = 1_000_000


def model_run(mb: int, rate: int, wss: int):
    host_mb = mb + 128
    a = xenlab.Machine(seed=1, memory_mb=host_mb)
    b = xenlab.Machine(seed=2, memory_mb=host_mb)
    work = [("dirty", rate, wss), ("compute", 5 * MS), ("loop", 1, None)] if rate else "cpu-bound"
    d = a.create_domain(DomainConfig(name="big", memory=mb, workload=work))
    a.run_for(100 * MS)
    t0 = time.perf_counter()
    report = migrate(a, d, b)
    return time.perf_counter() - t0, report


def baseline(pages: int) -> float:
    src = np.random.default_rng(0).integers(0, 255, size=(min(pages, 65536), 4096), dtype=np.uint8)
    dst = np.zeros_like(src)
    t0 = time.perf_counter()
    done = 0
    while done < pages:
        n = min(1024, pages - done)
        idx = np.arange(done, done + n) % src.shape[0]
        dst[idx] = src[idx]
        done += n
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--wss", type=int, default=8192)
    args = ap.parse_args()
    wall, r = model_run(args.mb, args.rate, args.wss)
    base = baseline(r.total_sent)
    pps = r.total_sent / wall
    print(f"guest {args.mb} MiB, dirtying {args.rate} pages/s over {args.wss} pages")
    print(r.text())
    print(f"model: {r.total_sent} pages in {wall:.2f} s wall = {pps:,.0f} pages/s "
          f"({r.total_ns / 1e9 / wall:.1f} simulated s per wall s)")
    print(f"baseline (numpy page copies): {r.total_sent / base:,.0f} pages/s; model/baseline ratio "
          f"{pps / (r.total_sent / base):.3f}")


if __name__ == "__main__":
    main()

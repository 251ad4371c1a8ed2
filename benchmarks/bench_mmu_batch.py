"""Building a PV guest's page tables with batched mmu_update (2048 requests per call, as the SOSP'03
paper batches) against one request per call. Same guest, same tables; reports hypercalls and time.

Run: python benchmarks/bench_mmu_batch.py [--mb 256]
"""
from __future__ import annotations

import argparse
import time

import xenlab
from xenlab.guest.mm import GuestMM


def build(mb: int, batch: int, paging: str) -> tuple[int, float]:
    m = xenlab.Machine(memory_mb=mb + 192, paging=paging)
    d = m.create_domain(xenlab.DomainConfig(name="guest", memory=mb))
    before = d.hypercall_counts.get("mmu_update", 0)
    t0 = time.perf_counter()
    GuestMM(d, batch=batch).boot()
    return d.hypercall_counts.get("mmu_update", 0) - before, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=256)
    a = p.parse_args()
    for paging in ("2level", "pae"):
        nb, tb = build(a.mb, 2048, paging)
        n1, t1 = build(a.mb, 1, paging)
        print(f"{paging:6s} {a.mb} MiB guest: batched {nb} mmu_update calls in {tb:.2f} s; "
              f"one per call {n1} calls in {t1:.2f} s; calls ratio {n1 / nb:.0f}x, time ratio {t1 / tb:.1f}x")


if __name__ == "__main__":
    main()

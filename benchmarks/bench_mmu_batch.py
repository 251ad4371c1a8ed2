"""Building a 256 MiB guest's page tables with batched mmu_update (2048 requests per call, as the SOSP'03
paper batches) against one request per call. Same tables, same validation; reports hypercalls and time.

The tables built are those of a second address space (guest/process.py ``new_process``): a new root
sharing the kernel's mappings, and every page of the guest's RAM mapped read-only at 0x10000000 (one
L1 entry per 4 KiB page, one L2 entry per L1), pinned at the end. The guest's kernel has already
built its own tables at boot, so this is the work of building another 256 MiB worth of tables.

Run: python benchmarks/bench_mmu_batch.py [--mb 256]
"""
from __future__ import annotations

import argparse
import time

import xenlab

BASE = 0x10000000


def build(mb: int, batch: int, paging: str) -> tuple[int, int, float]:
    """Returns (mmu_update calls, requests, seconds) for building the tables with ``batch`` per call."""
    m = xenlab.Machine(memory_mb=mb + 192, paging=paging)
    d = m.create_domain(xenlab.DomainConfig(name="guest", memory=mb))
    mm = d.kernel.mm
    mm.batch = batch
    before = d.hypercall_counts.get("mmu_update", 0)
    t0 = time.perf_counter()
    p = mm.new_process(base=BASE, shared=range(len(d.p2m)))
    elapsed = time.perf_counter() - t0
    calls = d.hypercall_counts.get("mmu_update", 0) - before
    assert calls == p.build_calls and p.translate(BASE + (5 << 12)) == d.p2m[5] << 12
    return calls, p.build_updates, elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=256)
    a = p.parse_args()
    for paging in ("2level", "pae"):
        build(16, 2048, paging)                           # warm-up: imports and first-use costs
        nb, reqs, tb = build(a.mb, 2048, paging)
        n1, _, t1 = build(a.mb, 1, paging)
        print(f"{paging:6s} {a.mb} MiB ({reqs} updates): batched {nb} mmu_update calls in {tb:.2f} s; "
              f"one per call {n1} calls in {t1:.2f} s; calls ratio {n1 / nb:.0f}x, time ratio {t1 / tb:.1f}x")


if __name__ == "__main__":
    main()

"""Benchmark of the model core: the clock and the trace bus.

Simulates 1 s of a 2-pCPU machine with 4 busy (CPU-bound) domains and prints
  - timer events (steps) per wall second, and
  - the cost of tracing with no subscriber, as a ratio against tracing disabled (emit replaced by a
    no-op for the baseline run, measured in the same process). Target: under 10 % overhead.
Run: python benchmarks/bench_core.py
"""
from __future__ import annotations

import statistics
import time

import xenlab

SIM_NS = 1_000_000_000


def build(seed: int = 0) -> xenlab.Machine:
    m = xenlab.Machine(cpus=2, memory_mb=256, seed=seed)
    for i in range(4):
        xenlab.xm(m, f'create name=busy{i} memory=16 workload="cpu-bound"')
    return m


def timed_run(disable_trace: bool) -> tuple[float, int]:
    m = build()
    if disable_trace:
        m.trace.emit = lambda *a, **k: None        # baseline: tracing compiled out
    t0 = time.perf_counter()
    steps = m.run(SIM_NS)
    return time.perf_counter() - t0, steps


def main() -> None:
    timed_run(False)                                 # warm-up
    on, off = [], []
    for _ in range(5):                               # interleave to share machine noise fairly
        on.append(timed_run(False))
        off.append(timed_run(True))
    t_on = statistics.median(t for t, _ in on)
    t_off = statistics.median(t for t, _ in off)
    steps = on[0][1]
    print(f"simulated 1 s, 2 pCPUs, 4 CPU-bound domains: {steps} timer events")
    print(f"timer events per wall second (tracing idle): {steps / t_on:,.0f}")
    print(f"wall time: tracing idle {t_on * 1e3:.1f} ms, tracing disabled {t_off * 1e3:.1f} ms")
    print(f"no-subscriber tracing overhead: {100 * (t_on / t_off - 1):+.1f} % (target < 10 %)")
    m = build()
    with m.trace.record() as events:
        t0 = time.perf_counter()
        m.run(SIM_NS)
        t_rec = time.perf_counter() - t0
    print(f"with a recording subscriber: {len(events)} events, {t_rec * 1e3:.1f} ms "
          f"({t_rec / t_off:.2f}x the disabled run)")


if __name__ == "__main__":
    main()

"""Benchmark: hypercalls per wall second through the dispatch path, tracing off and on.

A PV guest's vcpu makes the same mix of cheap hypercalls through ``hypercall_from_guest`` (the
``int $0x82`` path: table lookup, counts, cost charge, handler, return): xen_version,
event_channel_op(send) on an IPI port, set_timer_op, fpu_taskswitch, and a refused one (-ENOSYS).
It is run with nobody listening on the trace bus and with a subscriber recording every event;
the ratio is what a live tracer widget costs. Medians of interleaved runs.
Run: python benchmarks/bench_hypercalls.py
"""
from __future__ import annotations

import statistics
import time

import xenlab
from xenlab.xen.hypercall import hypercall_from_guest
from xenlab.xen.public import event_channel as ev

N = 20_000


def build():
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="bench", memory=8))
    d.pause()
    v = d.vcpus[0]
    ipi = ev.evtchn_bind_ipi(vcpu=0)
    d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_ipi, ipi))
    send = ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(ipi.port))
    calls = [("xen_version", 0), ("event_channel_op", send), ("set_timer_op", 10**12),
             ("fpu_taskswitch", 1), (31,)]
    return m, v, calls


def one_run(traced: bool) -> float:
    m, v, calls = build()
    sink = []
    unsub = m.trace.subscribe(sink.append) if traced else None
    t0 = time.perf_counter()
    for i in range(N):
        c = calls[i % len(calls)]
        hypercall_from_guest(v, *c)
    dt = time.perf_counter() - t0
    if unsub:
        unsub()
    return dt


def main() -> None:
    one_run(False)
    off, on = [], []
    for _ in range(5):
        off.append(one_run(False))
        on.append(one_run(True))
    t_off, t_on = statistics.median(off), statistics.median(on)
    print(f"{N} hypercalls (xen_version, evtchn send, set_timer_op, fpu_taskswitch, -ENOSYS) per run")
    print(f"tracing off: {N / t_off:,.0f} hypercalls per wall second")
    print(f"tracing on (one subscriber recording everything): {N / t_on:,.0f} hypercalls per wall second")
    print(f"ratio on/off wall time: {t_on / t_off:.2f}x")


if __name__ == "__main__":
    main()

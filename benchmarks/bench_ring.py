"""Ring operations per wall second, against a collections.deque doing the same produce/consume work.

Run: python benchmarks/bench_ring.py [--rounds 5000] [--batch 8]
One round: the front end produces ``batch`` requests and pushes with a notify check; the back end
consumes them all, answers each, pushes with a notify check; the front end consumes the responses
and does its final check.  The baseline does the same data movement with two deques (append and
popleft for requests, then for responses) and no index arithmetic or bytes.  Each side is timed
three times; figures use the best run.  Timings on a shared 2-core machine vary by +-30%.
"""
from __future__ import annotations

import argparse
import time
from collections import deque

from xenlab.hw.memory import MachineMemory
from xenlab.xen.public.io.blkif import (
    BlkifRequest,
    BlkifRequestSegment,
    BlkifResponse,
    new_blkif_sring,
)
from xenlab.xen.public.io.ring import BackRing, FrontRing, SharedRing


def ring_rounds(front: FrontRing, back: BackRing, rounds: int, batch: int, make_req, make_rsp) -> int:
    ops = 0
    for r in range(rounds):
        for i in range(batch):
            front.produce_request(make_req(r * batch + i))
        front.push_requests_and_check_notify()
        while back.has_unconsumed_requests():
            req = back.consume_request()
            back.produce_response(make_rsp(req))
        back.push_responses_and_check_notify()
        back.final_check_for_requests()
        while front.has_unconsumed_responses():
            front.consume_response()
        front.final_check_for_responses()
        ops += 4 * batch + 5  # produce, consume, produce, consume per message + 5 push/check calls
    return ops


def deque_rounds(rounds: int, batch: int, make_req, make_rsp) -> int:
    reqs, rsps = deque(), deque()
    ops = 0
    for r in range(rounds):
        for i in range(batch):
            reqs.append(make_req(r * batch + i))
        while reqs:
            rsps.append(make_rsp(reqs.popleft()))
        while rsps:
            rsps.popleft()
        ops += 4 * batch + 5  # same count of logical operations as the ring round
    return ops


def best_of(fn, repeat: int = 3) -> tuple[float, int]:
    best, ops = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        ops = fn()
        best = min(best, time.perf_counter() - t0)
    return best, ops


def report(label: str, ring_fn, deque_fn) -> None:
    t_ring, ops = best_of(ring_fn)
    t_deque, _ = best_of(deque_fn)
    ring_rate, deque_rate = ops / t_ring, ops / t_deque
    print(f"{label}:")
    print(f"  ring : {ring_rate:12,.0f} ops/s  ({t_ring * 1e3:8.1f} ms for {ops:,} ops)")
    print(f"  deque: {deque_rate:12,.0f} ops/s  ({t_deque * 1e3:8.1f} ms)")
    print(f"  ratio ring/deque: {ring_rate / deque_rate:.3f}  (deque is {deque_rate / ring_rate:.1f}x faster)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()

    # Raw 64-bit payloads in a private page.
    s = SharedRing(32)
    f, b = FrontRing(s), BackRing(s)
    report(f"int payloads, 32-slot ring, batch {a.batch}",
           lambda: ring_rounds(f, b, a.rounds, a.batch, lambda i: i, lambda q: q & 0xFFFF),
           lambda: deque_rounds(a.rounds, a.batch, lambda i: i, lambda q: q & 0xFFFF))

    # blkif structs packed to x86_32 bytes, in a page of machine memory.
    mem = MachineMemory(4)
    s = new_blkif_sring(mem, 4096)
    f, b = FrontRing(s), BackRing(s)
    seg = [BlkifRequestSegment(8, 0, 7)]

    def mkreq(i):
        return BlkifRequest(0, 1, 0x300, i, i * 8, seg)

    def mkrsp(q):
        return BlkifResponse(q.id, q.operation, 0)

    rounds = max(1, a.rounds // 10)
    report(f"blkif structs in machine memory, batch {a.batch}, {rounds} rounds",
           lambda: ring_rounds(f, b, rounds, a.batch, mkreq, mkrsp),
           lambda: deque_rounds(rounds, a.batch, mkreq, mkrsp))


if __name__ == "__main__":
    main()

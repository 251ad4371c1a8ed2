"""Properties of the ring after any sequence of legal operations (hypothesis).

rsp_cons <= rsp_prod <= req_cons <= req_prod <= rsp_cons + SIZE, modulo 2**32 (measured as
distances forward from rsp_cons), and the four regions always partition the ring's slots.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xenlab.xen.public.io.ring import (
    REGION_NAMES,
    BackRing,
    FrontRing,
    RingError,
    SharedRing,
)

M = 2**32
OPS = ["produce_request", "push_requests", "push_requests_and_check_notify", "consume_response",
       "final_check_for_responses", "consume_request", "produce_response", "push_responses",
       "push_responses_and_check_notify", "final_check_for_requests"]


def _legal(f: FrontRing, b: BackRing, op: str) -> bool:
    if op == "produce_request":
        return not f.full()
    if op == "consume_response":
        return f.has_unconsumed_responses() > 0
    if op == "consume_request":
        return b.has_unconsumed_requests() > 0
    if op == "produce_response":
        return b.rsp_prod_pvt != b.req_cons
    return True


def _check_invariants(s: SharedRing, f: FrontRing, b: BackRing) -> None:
    n = s.nr_ents

    def d(x):
        return (x - f.rsp_cons) % M

    # shared producers, as the other end sees them ...
    assert d(s.rsp_prod) <= d(b.req_cons) <= d(s.req_prod) <= n
    # ... and the private producers run ahead of them, never past the other end's limit
    assert d(s.rsp_prod) <= d(b.rsp_prod_pvt) <= d(b.req_cons)
    assert d(s.req_prod) <= d(f.req_prod_pvt) <= n
    states, counts = s.regions()
    assert len(states) == n and set(states) <= set(REGION_NAMES)
    assert sum(counts.values()) == n
    assert counts == {name: states.count(name) for name in REGION_NAMES}
    assert counts["request"] == d(s.req_prod) - d(b.req_cons)
    assert counts["outstanding"] == d(b.req_cons) - d(s.rsp_prod)
    assert counts["response"] == d(s.rsp_prod)
    assert 0 <= f.free_requests() <= n


@settings(max_examples=150, deadline=None)
@given(log2=st.integers(0, 6),
       start=st.one_of(st.integers(0, 16), st.integers(M - 70, M - 1), st.integers(0, M - 1)),
       ops=st.lists(st.sampled_from(OPS), max_size=120),
       values=st.integers(0, 2**64 - 1))
def test_invariants_hold_after_any_legal_sequence(log2, start, ops, values):
    s = SharedRing(1 << log2)
    s.req_prod = s.rsp_prod = start
    s.req_event = s.rsp_event = (start + 1) % M
    f, b = FrontRing(s, start), BackRing(s, start)
    _check_invariants(s, f, b)
    for i, op in enumerate(ops):
        legal = _legal(f, b, op)
        arg = ((values + i) % 2**64,) if op.startswith("produce") else ()
        try:
            getattr(f if hasattr(f, op) else b, op)(*arg)
            assert legal, f"{op} should have been refused"
        except RingError:
            assert not legal, f"{op} was refused but is legal"
        _check_invariants(s, f, b)


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(st.sampled_from(OPS), max_size=80), start=st.integers(0, M - 1))
def test_responses_come_back_in_request_order(ops, start):
    """A FIFO back end answering each request with its own payload returns them in order."""
    s = SharedRing(8)
    s.req_prod = s.rsp_prod = start
    f, b = FrontRing(s, start), BackRing(s, start)
    sent, pending, got = [], [], []
    for i, op in enumerate(ops):
        if not _legal(f, b, op):
            continue
        if op == "produce_request":
            f.produce_request(i)
            sent.append(i)
        elif op == "consume_request":
            pending.append(b.consume_request())
        elif op == "produce_response":
            b.produce_response(pending.pop(0))
        elif op == "consume_response":
            got.append(f.consume_response())
        else:
            getattr(f if hasattr(f, op) else b, op)()
    assert got == sent[:len(got)]

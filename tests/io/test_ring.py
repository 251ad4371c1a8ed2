"""The ring by hand: worked examples a student could redo on paper (xen-facts section 1)."""
from __future__ import annotations

import copy

import pytest

from xenlab.hw.memory import MachineMemory
from xenlab.xen.public.io.blkif import (
    BLKIF_OP_READ,
    BLKIF_RSP_OKAY,
    BlkifRequest,
    BlkifRequestSegment,
    BlkifResponse,
    new_blkif_sring,
)
from xenlab.xen.public.io.netif import (
    NetifTxRequest,
    new_netif_rx_sring,
    new_netif_tx_sring,
)
from xenlab.xen.public.io.ring import (
    BackRing,
    FrontRing,
    RingError,
    SharedRing,
    rd32,
    regions,
    ring_size,
)


def make(n=8, start=0, **kw):
    s = SharedRing(n, **kw)
    if start:
        s.req_prod = s.rsp_prod = start
        s.req_event = s.rsp_event = (start + 1) % 2**32
    return s, FrontRing(s, start), BackRing(s, start)


def test_rd32_and_ring_size():
    assert [rd32(x) for x in (0, 1, 2, 3, 37, 336, 504, 2**32 - 1)] == [0, 1, 2, 2, 32, 256, 256, 2**31]
    assert ring_size(4096, 64, 108) == 32 and ring_size(4096, 64, 112) == 32
    assert ring_size(4096, 64, 12) == 256 and ring_size(4096, 64, 8) == 256


def test_shared_ring_init_and_repr():
    s, f, b = make(32)
    assert (s.req_prod, s.req_event, s.rsp_prod, s.rsp_event) == (0, 1, 0, 1)
    assert "req_prod=0 req_event=1 rsp_prod=0 rsp_event=1" in repr(s)
    assert f.size() == 32 and f.free_requests() == 32 and not f.full()


def test_indices_live_in_machine_memory_little_endian():
    mem = MachineMemory(4)
    s = SharedRing(memory=mem, maddr=2 * 4096, entry_size=8)
    f = FrontRing(s)
    f.produce_request(0x1122334455667788)
    f.push_requests()
    assert mem.read_u32(2 * 4096 + 0) == 1            # req_prod at offset 0
    assert mem.read_u32(2 * 4096 + 4) == 1            # req_event at offset 4
    assert mem.read_u64(2 * 4096 + 64) == 0x1122334455667788  # slot 0 right after the 64-byte header
    # Another view of the same page (the back end's, init=False) sees it all.
    other = SharedRing(memory=mem, maddr=2 * 4096, entry_size=8, init=False)
    assert other.req_prod == 1 and BackRing(other).consume_request() == 0x1122334455667788


def test_hold_off_notifications_worked_example():
    s, f, b = make(8)
    f.produce_request(1)
    assert f.push_requests_and_check_notify()          # req_event 1 is in (0, 1]: notify
    f.produce_request(2)
    assert not f.push_requests_and_check_notify()      # req_event 1 not in (1, 2]: held off
    assert (f.notifications, f.notifications_held) == (1, 1)
    assert b.consume_request() == 1 and b.consume_request() == 2
    assert b.final_check_for_requests() == 0 and s.req_event == 3  # re-armed at req_cons + 1
    for v in (3, 4, 5):
        f.produce_request(v)
    assert f.push_requests_and_check_notify()          # 3 in (2, 5]: one event for three requests


def test_final_check_closes_the_race():
    s, f, b = make(4)
    f.produce_request(7)
    f.push_requests()                                  # pushed without notifying
    assert b.final_check_for_requests() == 1           # work found: req_event left alone
    assert s.req_event == 1


def test_responses_reuse_request_slots_and_union_bytes():
    s, f, b = make(4, req_codec=None, rsp_codec=None, entry_size=8)
    f.produce_request(0xAAAAAAAAAAAAAAAA)
    f.push_requests()
    b.consume_request()
    b.produce_response(0x42)
    b.push_responses()
    assert s.slot_bytes(0) == (0x42).to_bytes(8, "little")
    assert f.consume_response() == 0x42


def test_modern_full_allows_size_requests_in_flight():
    s, f, b = make(4)
    for v in range(4):
        f.produce_request(v)
    assert f.full() and f.free_requests() == 0
    with pytest.raises(RingError, match="full"):
        f.produce_request(99)


def test_misuse_raises_and_changes_nothing():
    s, f, b = make(4)
    before = (s.page.tobytes(), f.req_prod_pvt, f.rsp_cons, b.rsp_prod_pvt, b.req_cons)
    with pytest.raises(RingError):
        f.consume_response()
    with pytest.raises(RingError):
        b.consume_request()
    with pytest.raises(RingError):
        b.produce_response(1)
    with pytest.raises(RingError):
        f.req_prod_pvt = -1
    with pytest.raises(RingError):
        s.req_prod = 2**32
    with pytest.raises(RingError):
        SharedRing(3)                                  # not a power of two
    with pytest.raises(RingError):
        SharedRing(1024)                               # 1024 x 8 bytes do not fit a page
    assert before == (s.page.tobytes(), f.req_prod_pvt, f.rsp_cons, b.rsp_prod_pvt, b.req_cons)


def test_has_unconsumed_are_counts_and_back_end_bounded_by_room():
    s, f, b = make(4)
    for v in range(3):
        f.produce_request(v)
    f.push_requests()
    assert b.has_unconsumed_requests() == 3
    s.req_prod = 9                                     # a rogue front end claims 9 requests
    assert b.request_prod_overflow(9)
    assert b.has_unconsumed_requests() == 4            # min(9, room to respond = 4)
    assert b.request_cons_overflow(4) and not b.request_cons_overflow(3)


def test_wrap_around_at_2_32():
    start = 2**32 - 2
    s, f, b = make(4, start=start)
    for v in range(4):
        f.produce_request(v)
    f.push_requests()
    assert s.req_prod == 2 and f.req_prod_pvt == 2     # wrapped past 2**32
    assert [b.consume_request() for _ in range(4)] == [0, 1, 2, 3]
    for v in range(4):
        b.produce_response(10 + v)
    assert b.push_responses_and_check_notify()         # rsp_event 2**32-1 in (2**32-2, 2]
    assert f.has_unconsumed_responses() == 4
    assert [f.consume_response() for _ in range(4)] == [10, 11, 12, 13]
    assert f.free_requests() == 4


def test_regions_worked_example():
    s, f, b = make(8)
    for v in range(6):
        f.produce_request(v)
    f.push_requests()
    b.consume_request(), b.consume_request(), b.consume_request()
    b.produce_response(0)
    b.push_responses()
    f.produce_request(6)                               # produced, not pushed: still "unused"
    states, counts = s.regions()
    assert states == ["response", "outstanding", "outstanding", "request", "request", "request",
                      "unused", "unused"]
    assert counts == {"request": 3, "outstanding": 2, "response": 1, "unused": 2}
    assert regions(f, b).slots == states


def test_regions_needs_both_ends():
    s = SharedRing(8)
    FrontRing(s)
    with pytest.raises(RingError):
        s.regions()


def test_on_event_callback_sees_every_step():
    seen = []
    s, f, b = make(4, on_event=lambda name, **p: seen.append((name, p)))
    f.produce_request(1)
    f.push_requests_and_check_notify()
    names = [n for n, _ in seen]
    assert names == ["shared_ring_init", "produce_request", "push_requests"]
    assert seen[-1][1]["notify"] is True and seen[-1][1]["new"] == 1


def test_blkif_ring_carries_structs_in_x86_32_layout():
    s = new_blkif_sring()
    assert s.nr_ents == 32 and s.entry_size == 108
    f, b = FrontRing(s), BackRing(s)
    req = BlkifRequest(BLKIF_OP_READ, 1, 0x300, 42, 8, [BlkifRequestSegment(5, 0, 7)])
    f.produce_request(req)
    f.push_requests()
    assert s.slot_bytes(0)[:2] == bytes([BLKIF_OP_READ, 1])
    assert b.consume_request() == req
    b.produce_response(BlkifResponse(42, BLKIF_OP_READ, BLKIF_RSP_OKAY))
    b.push_responses()
    assert f.consume_response().id == 42
    with pytest.raises(RingError):
        f.produce_request(NetifTxRequest())            # the wrong struct for this ring


def test_netif_rings_have_256_entries():
    assert new_netif_tx_sring().nr_ents == 256 and new_netif_rx_sring().nr_ents == 256


def test_deepcopy_keeps_front_back_and_page_together():
    s, f, b = make(4)
    f.produce_request(5)
    f2 = copy.deepcopy(f)
    f2.push_requests()
    assert s.req_prod == 0 and f2.sring.req_prod == 1 and f2.sring.back.has_unconsumed_requests() == 1

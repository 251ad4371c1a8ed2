"""Machine memory (little-endian, bounds-checked) and the timer queue's ordering rules."""
import struct

import pytest

from xenlab.hw.memory import PAGE_SIZE, MachineMemory, MemoryAccessError
from xenlab.xen.timer import TimerQueue


def test_little_endian_matches_struct_pack():
    mem = MachineMemory(4)
    mem.write_u32(0x1004, 0x11223344)
    mem.write_u64(0x2000, 0x0102030405060708)
    mem.write_u16(0x10, 0xBEEF)
    # Oracle: Python's struct module with an explicit little-endian format.
    assert mem.read_bytes(0x1004, 4) == struct.pack("<I", 0x11223344)
    assert mem.read_bytes(0x2000, 8) == struct.pack("<Q", 0x0102030405060708)
    assert mem.read_bytes(0x10, 2) == struct.pack("<H", 0xBEEF)
    assert mem.read_u8(0x1004) == 0x44
    assert mem.read_u32(0x2004) == 0x01020304
    assert mem.frame(1)[4] == 0x44


def test_negative_values_are_stored_as_twos_complement():
    mem = MachineMemory(1)
    mem.write(0, 2, -1)
    assert mem.read_bytes(0, 2) == struct.pack("<h", -1)


@pytest.mark.parametrize("addr,size", [(-1, 4), (4 * PAGE_SIZE - 2, 4), (4 * PAGE_SIZE, 1)])
def test_out_of_range_access_is_a_clear_error_and_changes_nothing(addr, size):
    mem = MachineMemory(4)
    before = mem.data.copy()
    with pytest.raises(MemoryAccessError, match="outside physical memory"):
        mem.write(addr, size, 0xFF)
    with pytest.raises(MemoryAccessError):
        mem.read(addr, size)
    assert (mem.data == before).all()


def test_value_too_large_for_field_is_refused():
    mem = MachineMemory(1)
    with pytest.raises(MemoryAccessError, match="does not fit"):
        mem.write_u16(0, 0x10000)


def test_timers_fire_by_expiry_then_priority_then_insertion_order():
    q = TimerQueue()
    fired = []
    mk = lambda name, prio: q.init_timer(name, fired.append, name, priority=prio)  # noqa: E731
    a, b, c, d = mk("a", 5), mk("b", 1), mk("c", 5), mk("d", 0)
    q.set_timer(a, 100)
    q.set_timer(b, 100)
    q.set_timer(c, 100)
    q.set_timer(d, 50)
    order = []
    while (t := q.pop_due()) is not None:
        order.append((q.now, t.name))
    assert order == [(50, "d"), (100, "b"), (100, "a"), (100, "c")]


def test_stop_reset_and_kill():
    q = TimerQueue()
    t = q.init_timer("t", lambda _: None)
    q.set_timer(t, 10)
    q.set_timer(t, 30)                # re-arming moves it; the old entry must not fire
    u = q.init_timer("u", lambda _: None)
    q.set_timer(u, 20)
    q.stop_timer(u)
    assert [x.name for x in q.pending()] == ["t"]
    assert q.pop_due().expires == 30
    assert q.pop_due() is None
    q.kill_timer(t)
    with pytest.raises(RuntimeError):
        q.set_timer(t, 40)


def test_timer_set_in_the_past_fires_now():
    q = TimerQueue()
    q.now = 1000
    t = q.init_timer("late", lambda _: None)
    q.set_timer(t, 10)
    assert q.pop_due().expires == 1000 and q.now == 1000


def test_pop_due_respects_until():
    q = TimerQueue()
    t = q.init_timer("t", lambda _: None)
    q.set_timer(t, 500)
    assert q.pop_due(until=499) is None
    assert q.pop_due(until=500) is t

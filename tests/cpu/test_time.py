"""Time: the TSC scale, the guest's formula against Xen's to the nanosecond, wall clock, virtual time."""
import pytest

import xenlab
from xenlab.guest.cpu import guest_system_time
from xenlab.xen.public.xen import SI_WC_NSEC, SI_WC_SEC, VCPU_INFO_SIZE, VI_TIME, VTI_VERSION
from xenlab.guest.time import four_clocks
from xenlab.xen.time import (DEFAULT_BOOT_WALLCLOCK, NSEC_PER_SEC, do_settime, get_s_time,
                             read_vcpu_time_info, read_wallclock, scale_delta, set_time_scale,
                             update_vcpu_system_time)

FREQS = [1, 32_768, 14_318_180, 100_000_000, 999_999_999, 1_000_000_000, 1_000_000_001, 1_193_182_000,
         2_000_000_000, 2_000_000_001, 2_394_123_456, 3_000_000_000, 3_600_000_000, 4_294_967_296, 10**10]


@pytest.mark.parametrize("hz", FREQS)
def test_scale_is_in_range_and_inverts(hz):
    s = set_time_scale(hz)
    assert 0 < s.mul_frac < 1 << 32                   # fits tsc_to_system_mul (uint32)
    assert -128 <= s.shift <= 127                     # fits tsc_shift (int8)
    # The public header's inverse: Hz = ((10^9 << 32) / mul) >> shift, to within its truncation.
    assert abs(s.hz() - hz) <= max(2, hz >> 29) * (1 << max(0, -s.shift))
    # One second of ticks scales to one second of ns, to within a ns per 2^31 ns of scale error.
    assert abs(scale_delta(hz, s.shift, s.mul_frac) - NSEC_PER_SEC) <= 2 + (1 << max(0, -s.shift)) * 2


def test_hand_worked_2ghz_and_3ghz():
    assert set_time_scale(2_000_000_000) == set_time_scale(2_000_000_000)
    s2 = set_time_scale(2_000_000_000)
    assert (s2.shift, s2.mul_frac) == (0, 1 << 31)             # ns = ticks / 2
    assert scale_delta(2_000, 0, 1 << 31) == 1_000
    s3 = set_time_scale(3_000_000_000)                         # 1.5e9 after one halving
    assert s3.shift == -1 and s3.mul_frac == (10**9 << 32) // 1_500_000_000
    s1 = set_time_scale(1_000_000_000)                         # exactly 1e9 doubles to 2e9
    assert (s1.shift, s1.mul_frac) == (1, 1 << 31)


@pytest.mark.parametrize("tsc_mhz", [100, 1000, 1193, 2000, 2394, 3000, 3600])
def test_guest_time_equals_xens_to_the_ns(tsc_mhz):
    m = xenlab.Machine(memory_mb=64, cpus=2, tsc_mhz=tsc_mhz)
    d = m.create_domain(xenlab.DomainConfig(name="t", memory=8, vcpus=2, workload="cpu-bound"))
    checked = 0
    for step in range(60):
        m.run_for(37_000_000 + step * 1_234_567)       # crosses several 1 s calibrations
        for v in d.vcpus:
            if v.is_running:
                assert guest_system_time(v) == get_s_time(m, v.processor)
                assert abs(guest_system_time(v) - m.now) <= 1 + NSEC_PER_SEC // (tsc_mhz * 10**6) * 2
                checked += 1
    assert checked > 50
    assert m.now > 2 * NSEC_PER_SEC


def test_vcpu_time_info_layout_and_version(m):
    d = m.dom0
    v = d.vcpus[0]
    t = read_vcpu_time_info(v)
    assert t["version"] % 2 == 0 and t["version"] > 0
    assert t["tsc_to_system_mul"] == 1 << 31 and t["tsc_shift"] == 0
    addr = (d.shared_info_mfn << 12) + v.vcpu_id * VCPU_INFO_SIZE + VI_TIME + VTI_VERSION
    seen = []
    m.run_for(NSEC_PER_SEC + 1)                    # a calibration takes a new stamp
    update_vcpu_system_time(v, during=lambda: seen.append(m.memory.read_u32(addr)))
    assert seen and seen[0] % 2 == 1               # odd while Xen rewrites it
    assert m.memory.read_u32(addr) == seen[0] + 1


def test_reader_retries_while_odd(m):
    v = m.dom0.vcpus[0]
    values = []
    update_vcpu_system_time(v, during=lambda: values.append(read_vcpu_time_info(v)["version"]))
    assert values[0] & 1
    with pytest.raises(AssertionError):
        update_vcpu_system_time(v, during=lambda: guest_system_time(v))


def test_wallclock_in_shared_info():
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="w", memory=8))
    ver, sec, nsec = read_wallclock(d)
    assert (sec, nsec) == DEFAULT_BOOT_WALLCLOCK and ver % 2 == 0
    assert m.memory.read_u32((d.shared_info_mfn << 12) + SI_WC_SEC) == DEFAULT_BOOT_WALLCLOCK[0]
    m.run_for(3 * NSEC_PER_SEC + 250)
    clocks = four_clocks(d)
    assert clocks["wall_ns"] == DEFAULT_BOOT_WALLCLOCK[0] * NSEC_PER_SEC + clocks["system_ns"]
    do_settime(m, 1_700_000_000, 500, m.now)       # DOM0_SETTIME: wall time is that *now*
    ver2, sec2, nsec2 = read_wallclock(d)
    assert ver2 == ver + 2
    assert sec2 * NSEC_PER_SEC + nsec2 + m.now == 1_700_000_000 * NSEC_PER_SEC + 500
    assert m.memory.read_u32((d.shared_info_mfn << 12) + SI_WC_NSEC) == nsec2
    m2 = xenlab.Machine(memory_mb=64, boot_wallclock=(1_000_000_000, 7))
    assert read_wallclock(m2.dom0)[1:] == (1_000_000_000, 7)


def test_paused_domain_virtual_time_stands_still():
    m = xenlab.Machine(memory_mb=64)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, workload="cpu-bound"))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, workload="cpu-bound"))
    m.run_for(100_000_000)
    va = a.cpu_time
    assert va > 0
    a.pause()
    frozen = a.cpu_time
    m.run_for(200_000_000)
    assert a.cpu_time == frozen                      # virtual time stood still...
    assert four_clocks(a)["system_ns"] >= m.now - 1  # ...while system time went on
    assert b.cpu_time > 150_000_000
    a.unpause()
    m.run_for(100_000_000)
    assert a.cpu_time > frozen


def test_blocked_domain_virtual_time_stands_still():
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="i", memory=8, workload="idle"))
    m.run_for(10_000_000)
    t = d.cpu_time
    m.run_for(500_000_000)
    assert d.cpu_time == t


def test_set_timer_op_and_periodic_tick():
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="s", memory=8, workload=[("sleep", 25_000_000), ("loop", 0, None)]))
    with m.trace.record(("TIME", "EVTCHN", "SCHED")) as evs:
        m.run_for(100_000_000)
    timers = [e for e in evs if e.name == "set_timer" and e.domid == d.domain_id]
    assert len(timers) >= 3
    assert all(e["timeout"] > 0 for e in timers)
    assert d.cpu_time < 1_000_000                    # sleeping costs no virtual time
    c = xenlab.Machine(memory_mb=64)
    busy = c.create_domain(xenlab.DomainConfig(name="busy", memory=8, workload="cpu-bound"))
    port = busy.vcpus[0].virq_to_evtchn[0]
    with c.trace.record("EVTCHN", domid=busy.domain_id) as evs:
        c.run_for(100_000_000)
    ticks = [e for e in evs if e.name == "set_pending" and e["port"] == port]
    assert 8 <= len(ticks) <= 11                       # every 10 ms while it runs
    assert d.hypercall("set_timer_op", 0) == 0       # 0 cancels

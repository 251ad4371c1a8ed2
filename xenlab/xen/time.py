"""Time: the cycle counter, system time, wall-clock time (X@RELEASE-3.0.0:xen/arch/x86/time.c).

The lecture's four clocks:
1. the **cycle counter** (TSC): one per physical CPU, ``PhysicalCPU.rdtsc(now)``;
2. **system time**: ns since boot. Xen keeps, per CPU, a stamp ``(local_tsc_stamp, stime_local_stamp)``
   and a scale ``(tsc_to_system_mul, tsc_shift)``; between stamps it extrapolates with the TSC:
   ``stime = stamp + ((((tsc - tsc_stamp) << shift) * mul) >> 32)``. It publishes the same four
   numbers per vcpu in ``vcpu_info.time`` (``vcpu_time_info``), so a guest computes the very same
   value with one RDTSC and no hypercall;
3. **domain virtual time**: the CPU time the domain has had (``Domain.cpu_time``); it stands still
   while the domain is paused, blocked or waiting for a CPU;
4. **wall-clock time**: ``wc_sec``/``wc_nsec`` in shared_info hold the wall-clock time at system time 0;
   wall time = wc + system time.

``version`` in vcpu_time_info (and ``wc_version``) is odd while Xen rewrites the record, and a reader
retries like a seqlock. Xen refreshes a vcpu's record when the vcpu is scheduled in ("ensure the
domain has an up-to-date time base", 3.0 schedule.c), on each periodic VIRQ_TIMER, and after the
per-CPU calibration that runs every second (``local_time_calibration``).

Simplifications:
- TSCs never drift (hw/cpu.py), so calibration only takes a new stamp; the scale never changes.
- System time at a calibration is the extrapolated value if that is ahead of the model clock (so it
  never goes backwards); it stays within one TSC tick of ``machine.now``.
- No platform timer (PIT/HPET) and no NTP: the model clock is the master.
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.xen.timer import PRIO_TICK

NSEC_PER_SEC = 1_000_000_000
EPOCH_NS = NSEC_PER_SEC                  # calibration period (EPOCH in time.c)
DEFAULT_BOOT_WALLCLOCK = (1133740800, 0)  # 2005-12-05 00:00:00 UTC, the day Xen 3.0.0 was tagged
U64 = (1 << 64) - 1

# Field offsets inside shared_info come from the public ABI.
from xenlab.xen.public.xen import (SI_WC_NSEC, SI_WC_SEC, SI_WC_VERSION, VTI_SYSTEM_TIME, VTI_TSC_SHIFT, VTI_TSC_TIMESTAMP,
                                   VTI_TSC_TO_SYSTEM_MUL, VTI_VERSION)
from xenlab.xen.public.shared import read_vcpu_time_info, read_wallclock, time_info_addr  # noqa: E402,F401


@dataclass(frozen=True)
class time_scale:
    """struct time_scale: ns = ((ticks << shift) * mul_frac) >> 32 (a negative shift shifts right)."""
    shift: int
    mul_frac: int

    def hz(self) -> int:
        """CPU Hz as the public header derives it: ((10^9 << 32) / mul) >> shift (shift may be negative)."""
        q = (NSEC_PER_SEC << 32) // self.mul_frac
        return q >> self.shift if self.shift >= 0 else q << -self.shift


def set_time_scale(ticks_per_sec: int) -> time_scale:
    """Choose (shift, mul_frac) so that ticks scaled by 2**shift lie in (1e9, 2e9] per second,
    then mul_frac = 1e9 * 2**32 / that rate fits in 32 bits (set_time_scale in time.c)."""
    if ticks_per_sec <= 0:
        raise ValueError(f"a TSC frequency must be positive, got {ticks_per_sec}")
    tps, shift = int(ticks_per_sec), 0
    while tps > 2 * NSEC_PER_SEC:
        tps >>= 1
        shift -= 1
    tps &= 0xFFFFFFFF
    # `<=`, not 3.0's `<`: at exactly 1 GHz `<` leaves tps == 1e9 and div_frac(1e9, 1e9) trips
    # ASSERT(dividend < divisor) (divl overflows); later Xen changed it to `<=`, as here.
    while tps <= NSEC_PER_SEC:
        tps <<= 1
        shift += 1
    return time_scale(shift, (NSEC_PER_SEC << 32) // tps)


def scale_delta(delta: int, shift: int, mul_frac: int) -> int:
    """The formula of the public header, in 64-bit unsigned arithmetic as the guest does it."""
    delta &= U64
    delta = (delta << shift) & U64 if shift >= 0 else delta >> -shift
    return ((delta * mul_frac) >> 32) & U64


@dataclass
class cpu_time:
    """Per physical CPU: the last calibration stamp and the TSC scale."""
    local_tsc_stamp: int
    stime_local_stamp: int
    tsc_scale: time_scale


class TimeState:
    """machine.time: per-CPU stamps, the boot wall-clock and the calibration timers."""

    def __init__(self, machine, boot_wallclock: tuple[int, int]):
        self.machine = machine
        self.wc_sec, self.wc_nsec = boot_wallclock
        self.cpu = []
        for pcpu in machine.cpus:
            self.cpu.append(cpu_time(pcpu.rdtsc(machine.now), machine.now, set_time_scale(pcpu.tsc_hz)))
        self.calibration = [machine.timers.init_timer(f"time_calibration{c}", _calibration_fn,
                                                      (machine, c), c, PRIO_TICK)
                            for c in range(len(machine.cpus))]
        for t in self.calibration:
            machine.timers.set_timer(t, machine.now + EPOCH_NS)

    def __repr__(self) -> str:
        return f"<TimeState wc={self.wc_sec}.{self.wc_nsec:09d} {len(self.cpu)} CPUs>"


def time_init(machine, boot_wallclock: tuple[int, int] | None = None) -> TimeState:
    """init_xen_time(): stamps for every CPU, the boot wall-clock, a hook that fills each new shared_info."""
    machine.time = TimeState(machine, boot_wallclock or DEFAULT_BOOT_WALLCLOCK)
    machine.on_domain_create.append(update_wallclock_time)
    for d in machine.domains.values():
        update_wallclock_time(d)
    return machine.time


def get_s_time(machine, cpu: int) -> int:
    """Xen's NOW() on ``cpu``: the stamp plus the scaled TSC ticks since it."""
    t = machine.time.cpu[cpu]
    tsc = machine.cpus[cpu].rdtsc(machine.now)
    return t.stime_local_stamp + scale_delta(tsc - t.local_tsc_stamp, t.tsc_scale.shift, t.tsc_scale.mul_frac)


def local_time_calibration(machine, cpu: int) -> None:
    """Take a fresh stamp on ``cpu`` and refresh the time record of the vcpu running there."""
    t = machine.time.cpu[cpu]
    stime = max(machine.now, get_s_time(machine, cpu))
    t.local_tsc_stamp = machine.cpus[cpu].rdtsc(machine.now)
    t.stime_local_stamp = stime
    machine.trace.emit("TIME", "calibrate", pcpu=cpu, tsc=t.local_tsc_stamp, stime=stime)
    cur = machine.cpus[cpu].curr
    if cur is not None and not cur.is_idle:
        update_vcpu_system_time(cur)


def _calibration_fn(data) -> None:
    machine, cpu = data
    machine.timers.set_timer(machine.time.calibration[cpu], machine.now + EPOCH_NS)
    local_time_calibration(machine, cpu)


# -- publishing to the guest ----------------------------------------------------------------------------
def update_vcpu_system_time(v, during=None) -> bool:
    """Publish v's pCPU stamp in v's vcpu_time_info (version odd while writing).

    ``during`` (for demonstrations and tests) is called while the version is odd, as a reader on
    another CPU could observe it. Returns False when the record was already current.
    """
    machine = v.domain.machine
    t = machine.time.cpu[v.processor]
    mem = machine.memory
    a = time_info_addr(v)
    if (mem.read_u64(a + VTI_TSC_TIMESTAMP) == t.local_tsc_stamp
            and mem.read_u32(a + VTI_TSC_TO_SYSTEM_MUL) == t.tsc_scale.mul_frac and during is None):
        return False
    version = mem.read_u32(a + VTI_VERSION)
    mem.write_u32(a + VTI_VERSION, (version + 1) & 0xFFFFFFFF)          # odd: update in progress
    if during is not None:
        during()
    mem.write_u64(a + VTI_TSC_TIMESTAMP, t.local_tsc_stamp)
    mem.write_u64(a + VTI_SYSTEM_TIME, t.stime_local_stamp)
    mem.write_u32(a + VTI_TSC_TO_SYSTEM_MUL, t.tsc_scale.mul_frac)
    mem.write_u8(a + VTI_TSC_SHIFT, t.tsc_scale.shift & 0xFF)
    mem.write_u32(a + VTI_VERSION, (version + 2) & 0xFFFFFFFF)          # even again
    if machine.trace.active:
        machine.trace.emit("TIME", "update_vcpu_time", domid=v.domid, vcpu=v.vcpu_id, pcpu=v.processor,
                           version=version + 2, tsc_timestamp=t.local_tsc_stamp,
                           system_time=t.stime_local_stamp, mul=t.tsc_scale.mul_frac,
                           shift=t.tsc_scale.shift)
    return True


def update_dom_time(v) -> None:
    """Called when v is scheduled in and before each VIRQ_TIMER: its record must name its current pCPU."""
    if getattr(v.domain.machine, "time", None) is not None and v.domain.shared_info_mfn >= 0:
        update_vcpu_system_time(v)


def update_wallclock_time(d) -> None:
    """Write the wall-clock at system time 0 into d's shared_info (wc_version odd while writing)."""
    machine = d.machine
    if d.shared_info_mfn < 0:
        return
    mem, base = machine.memory, d.shared_info_mfn << 12
    version = mem.read_u32(base + SI_WC_VERSION)
    mem.write_u32(base + SI_WC_VERSION, (version + 1) & 0xFFFFFFFF)
    mem.write_u32(base + SI_WC_SEC, machine.time.wc_sec & 0xFFFFFFFF)
    mem.write_u32(base + SI_WC_NSEC, machine.time.wc_nsec)
    mem.write_u32(base + SI_WC_VERSION, (version + 2) & 0xFFFFFFFF)
    machine.trace.emit("TIME", "wallclock", domid=d.domain_id, wc_sec=machine.time.wc_sec,
                       wc_nsec=machine.time.wc_nsec)


def do_settime(machine, secs: int, nsecs: int, system_time_base: int) -> None:
    """DOM0_SETTIME: the wall-clock was secs.nsecs at system time ``system_time_base``."""
    x = secs * NSEC_PER_SEC + nsecs - system_time_base
    machine.time.wc_sec, machine.time.wc_nsec = divmod(x, NSEC_PER_SEC)
    for d in machine.domains.values():
        update_wallclock_time(d)


__all__ = ["set_time_scale", "scale_delta", "time_init", "get_s_time", "update_vcpu_system_time",
           "update_wallclock_time", "do_settime", "read_vcpu_time_info", "read_wallclock", "time_scale"]

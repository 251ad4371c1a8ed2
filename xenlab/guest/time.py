"""The guest kernel's clock: system time from one RDTSC and its vcpu_time_info, as XenLinux computes it.

XenLinux (linux-2.6-xen-sparse/arch/i386/kernel/time-xen.c: ``get_nsec_offset``, ``scale_delta``,
``__update_wallclock``) never asks Xen for the time: it reads the ``vcpu_time_info`` Xen keeps in the
shared_info page (by the public layout, xenlab/xen/public/shared.py), reads the TSC of the CPU it runs
on, and scales the difference with its own copy of the public formula:

    system time = system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)

(a negative ``tsc_shift`` shifts right), in 64-bit unsigned arithmetic. Wall-clock time is the
``wc_sec``/``wc_nsec`` of shared_info plus system time.
"""
from __future__ import annotations

from xenlab.xen.public.shared import read_vcpu_time_info, read_wallclock

NSEC_PER_SEC = 1_000_000_000
U64 = (1 << 64) - 1


def scale_delta(delta: int, shift: int, mul_frac: int) -> int:
    """time-xen.c's scale_delta: ``(delta << shift) * mul_frac >> 32`` in 64-bit unsigned arithmetic."""
    delta &= U64
    delta = (delta << shift) & U64 if shift >= 0 else delta >> -shift
    return ((delta * mul_frac) >> 32) & U64


def guest_system_time(v) -> int:
    """get_nsec_offset() + shadow system time: read vcpu_time_info like a seqlock, RDTSC, scale.

    Sandbox (exercise 08): a kernel whose ``system_time_fn`` is set computes the value with it, as
    ``system_time_fn(tsc, system_time, tsc_timestamp, mul, shift)``; NotImplemented means the formula.
    """
    machine = v.domain.machine
    formula = getattr(v.domain.kernel, "system_time_fn", None)
    for _ in range(100):
        t = read_vcpu_time_info(v)
        if t["version"] & 1:
            continue                                   # Xen is rewriting it: try again
        tsc = machine.cpus[v.processor].rdtsc(machine.now)      # RDTSC on the CPU we run on
        if read_vcpu_time_info(v)["version"] != t["version"]:
            continue
        if formula is not None:
            ns = formula(tsc, t["system_time"], t["tsc_timestamp"], t["tsc_to_system_mul"], t["tsc_shift"])
            if ns is not NotImplemented:
                return int(ns)
        return t["system_time"] + scale_delta(tsc - t["tsc_timestamp"], t["tsc_shift"], t["tsc_to_system_mul"])
    raise AssertionError(f"{v.label}: vcpu_time_info stayed odd (an update that never finished)")


def four_clocks(d, vcpu: int = 0) -> dict[str, int]:
    """The lecture's four clocks as domain ``d`` (vcpu ``vcpu``) sees them now, read the guest's way:
    the TSC, system time, the domain's virtual (CPU) time, and wall-clock time."""
    v = d.vcpus[vcpu]
    machine = d.machine
    stime = guest_system_time(v)
    _, wc_sec, wc_nsec = read_wallclock(d)
    return {"tsc": machine.cpus[v.processor].rdtsc(machine.now), "system_ns": stime,
            "virtual_ns": d.cpu_time, "wall_ns": wc_sec * NSEC_PER_SEC + wc_nsec + stime}


__all__ = ["scale_delta", "guest_system_time", "four_clocks"]

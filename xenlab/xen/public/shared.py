"""Reading and writing the shared_info page by its public layout (xen.h: struct shared_info,
struct vcpu_info, struct vcpu_time_info; offsets in xenlab/xen/public/xen.py).

Both sides use these: Xen writes the page (event bits, time stamps, CR2 of a page fault) and the guest
kernel reads it through its own mapping, as XenLinux does with ``HYPERVISOR_shared_info``. Nothing
here knows Xen's internals: a domain's shared_info frame number (``d.shared_info_mfn``, what
start_info's ``shared_info`` field gives the guest) and the bytes of machine memory are all it uses.
"""
from __future__ import annotations

from xenlab.xen.public.xen import (SI_WC_NSEC, SI_WC_SEC, SI_WC_VERSION, VCPU_INFO_SIZE, VI_ARCH_CR2,
                                   VI_EVTCHN_PENDING_SEL, VI_EVTCHN_UPCALL_MASK, VI_EVTCHN_UPCALL_PENDING,
                                   VI_TIME, VTI_SYSTEM_TIME, VTI_TSC_SHIFT, VTI_TSC_TIMESTAMP,
                                   VTI_TSC_TO_SYSTEM_MUL, VTI_VERSION)

VI_FIELDS = {"evtchn_upcall_pending": (VI_EVTCHN_UPCALL_PENDING, 1),
             "evtchn_upcall_mask": (VI_EVTCHN_UPCALL_MASK, 1),
             "evtchn_pending_sel": (VI_EVTCHN_PENDING_SEL, 4),
             "arch.cr2": (VI_ARCH_CR2, 4)}


def shared_info_base(d) -> int:
    """Machine address of domain ``d``'s shared_info frame."""
    return d.shared_info_mfn << 12


def vcpu_info_addr(v) -> int:
    """Machine address of v's vcpu_info inside its domain's shared_info frame."""
    return shared_info_base(v.domain) + v.vcpu_id * VCPU_INFO_SIZE


def vcpu_info_read(v, name: str) -> int:
    """One field of v's vcpu_info: "evtchn_upcall_pending", "evtchn_upcall_mask",
    "evtchn_pending_sel" or "arch.cr2"."""
    off, size = VI_FIELDS[name]
    return v.domain.machine.memory.read(vcpu_info_addr(v) + off, size)


def vcpu_info_write(v, name: str, value: int) -> None:
    off, size = VI_FIELDS[name]
    v.domain.machine.memory.write(vcpu_info_addr(v) + off, size, value)


def time_info_addr(v) -> int:
    return vcpu_info_addr(v) + VI_TIME


def read_vcpu_time_info(v) -> dict[str, int]:
    """The vcpu_time_info record as it sits in the shared_info frame (tsc_shift is a signed byte)."""
    mem = v.domain.machine.memory
    a = time_info_addr(v)
    shift = mem.read_u8(a + VTI_TSC_SHIFT)
    return {"version": mem.read_u32(a + VTI_VERSION),
            "tsc_timestamp": mem.read_u64(a + VTI_TSC_TIMESTAMP),
            "system_time": mem.read_u64(a + VTI_SYSTEM_TIME),
            "tsc_to_system_mul": mem.read_u32(a + VTI_TSC_TO_SYSTEM_MUL),
            "tsc_shift": shift - 256 if shift >= 128 else shift}


def read_wallclock(d) -> tuple[int, int, int]:
    """(wc_version, wc_sec, wc_nsec) from d's shared_info."""
    mem, base = d.machine.memory, shared_info_base(d)
    return (mem.read_u32(base + SI_WC_VERSION), mem.read_u32(base + SI_WC_SEC), mem.read_u32(base + SI_WC_NSEC))


__all__ = ["shared_info_base", "vcpu_info_addr", "vcpu_info_read", "vcpu_info_write", "time_info_addr",
           "read_vcpu_time_info", "read_wallclock", "VI_FIELDS"]

"""The guest's side of save/restore: suspend on request, resume where it stopped.

Models XenLinux 3.0's __do_suspend (linux-2.6-xen-sparse/arch/xen/kernel/reboot.c): when xend writes
"suspend" into the guest's control/shutdown node, the kernel quiesces and calls
SCHEDOP_shutdown(SHUTDOWN_suspend) with its start_info MFN in EDX; when that hypercall "returns" in
a new domain, it rebinds its event channels (irq_resume) and carries on.

Everything a real guest knows lives in its memory, so it survives the copy. The model's guest keeps
its workload progress in Python objects (``VcpuContext``), so on suspend the kernel writes that
progress into its own memory, the **resume record**, and reads it back on resume. It is kept in
the unused second half of the start_info page (bytes 2048..4095; the builder fills the first 1104),
a page every guest has at a known pfn, so it collides with nothing else the kernel allocates
(real XenLinux copies start_info at boot and would keep such data in its own variables).
The record is little-endian:

    magic "XLRESUME" | u32 version | u32 nr_vcpus | per vcpu:
      u32 pc | u32 flags | u64 remaining_ns | u64 sleep_left_ns | u32 nr_loops | (u32 op, u32 count)*
      u32 dirty_rate | u32 dirty_wss | u32 dirty_first_pfn | u32 0 | u64 dirty_count | u64 dirty_carry

Simplifications:
- The request arrives as in 3.0.0: xend writes "suspend" into control/shutdown and the kernel's watch
  (guest/xenlinux.py, reboot.c's shutdown_handler) calls ``request_suspend``; the kernel's threads are
  not frozen one by one, the workload's contexts are flushed at once.
- Time-relative state (the rest of a computation, the rest of a sleep) is stored as "ns left", so
  the guest resumes correctly on a host whose system time is different.
- Workload "marks" (periodic tasks' release/done times) are not carried over.
"""
from __future__ import annotations

import struct

from xenlab.guest.dirty import DirtyState, flush_writes
from xenlab.hw import idt
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.xen import SCHEDOP_shutdown, SHUTDOWN_suspend, VIRQ_TIMER, sched_shutdown

RESUME_MAGIC = b"XLRESUME"
RESUME_VERSION = 1
F_COMPUTING = 1
F_SLEEPING = 2
F_DIRTY = 4


RECORD_PFN = 0                 # the start_info page (domain_build.START_INFO_PFN)
RECORD_OFFSET = 2048
RECORD_MAX = 4096 - RECORD_OFFSET


def _vcpu_record(ctx, now: int) -> bytes:
    flags, remaining, sleep_left = 0, 0, 0
    if ctx.remaining is not None:
        flags |= F_COMPUTING
        remaining = ctx.remaining
        if ctx.progress.active:                      # computing right now: only the rest is owed
            remaining = max(0, ctx.remaining - (now - ctx.run_start))
    if ctx.sleep_deadline is not None:
        flags |= F_SLEEPING
        sleep_left = max(0, ctx.sleep_deadline - now)
    ds = getattr(ctx, "dirty", None)
    if ds is not None:
        flags |= F_DIRTY
    loops = sorted(ctx.loop_counts.items())
    out = struct.pack("<IIQQI", ctx.pc, flags, remaining, sleep_left, len(loops))
    out += b"".join(struct.pack("<II", op, count) for op, count in loops)
    out += struct.pack("<IIIIQQ", ds.rate if ds else 0, ds.wss if ds else 0, ds.first_pfn if ds else 0, 0,
                       ds.count if ds else 0, ds.carry if ds else 0)
    return out


def write_resume_record(kernel) -> int:
    """Write the record into start_info's second half (a guest write: logged dirty); returns its size."""
    d = kernel.d
    now = d.machine.now
    body = RESUME_MAGIC + struct.pack("<II", RESUME_VERSION, len(kernel.contexts))
    body += b"".join(_vcpu_record(ctx, now) for ctx in kernel.contexts)
    if len(body) > RECORD_MAX:
        raise ValueError(f"{d.name}: the resume record needs {len(body)} bytes, more than {RECORD_MAX}")
    d.machine.memory.write_bytes((_mfn(kernel, RECORD_PFN) << 12) + RECORD_OFFSET, body.ljust(RECORD_MAX, b"\0"))
    idt.log_dirty_write(d, [RECORD_PFN])
    return len(body)


def _mfn(kernel, pfn: int) -> int:
    """pfn_to_mfn through the kernel's own P2M (an HVM kernel has none: Xen's physical map)."""
    mm = getattr(kernel, "mm", None)
    if mm is not None and getattr(mm, "p2m", None) is not None:
        return mm.p2m[pfn]
    return kernel.d.p2m[pfn]


def canonicalise_start_info(d) -> None:
    """__do_suspend: store_mfn and console_mfn become pfns (mfn_to_pfn), for the restorer to map back."""
    from xenlab.xen.public.xen import start_info
    mem, m2p = d.machine.memory, d.machine.m2p
    base = _mfn(d.kernel, 0) << 12
    nr = start_info.unpack(mem.read_bytes(base, 1104)).nr_pages
    info = start_info.unpack(mem.read_bytes(base, 1104))
    for name in ("store_mfn", "console_mfn"):
        mfn = getattr(info, name)
        if 0 < mfn < len(m2p) and int(m2p[mfn]) < nr:
            setattr(info, name, int(m2p[mfn]))
    mem.write_bytes(base, info.pack())


def request_suspend(kernel) -> int:
    """__do_suspend(): stop writing, save progress, SCHEDOP_shutdown(SHUTDOWN_suspend)."""
    d = kernel.d
    now = d.machine.now
    for ctx in kernel.contexts:
        flush_writes(ctx, now)
    write_resume_record(kernel)
    canonicalise_start_info(d)
    # start_info, the console and xenstore rings: touched on the way down (xencons_suspend ...).
    idt.log_dirty_write(d, [0, 1, 2])
    return kernel.hypercall(d.vcpus[0], "sched_op", SCHEDOP_shutdown, sched_shutdown(SHUTDOWN_suspend))


def read_resume_record(d) -> list[dict]:
    """Parse the record from the guest's memory (raises ValueError when it is not there)."""
    raw = d.machine.memory.read_bytes((_mfn(d.kernel, RECORD_PFN) << 12) + RECORD_OFFSET, RECORD_MAX)
    return parse_resume_record(raw, d.name)


def parse_resume_record(raw: bytes, name: str = "the guest") -> list[dict]:
    """The record from the bytes of start_info's second half; ValueError for anything malformed
    (the restorer checks an image's record with it before it builds a domain)."""
    raw = bytes(raw[:RECORD_MAX])
    if raw[:8] != RESUME_MAGIC:
        raise ValueError(f"{name}: no resume record in its start_info page (was it suspended?)")
    try:
        version, nr = struct.unpack_from("<II", raw, 8)
        if version != RESUME_VERSION:
            raise ValueError(f"{name}: resume record version {version}, expected {RESUME_VERSION}")
        if not 1 <= nr <= 32:                                      # MAX_VIRT_CPUS
            raise ValueError(f"{name}: resume record for {nr} vcpus")
        off, out = 16, []
        for _ in range(nr):
            pc, flags, remaining, sleep_left, nloops = struct.unpack_from("<IIQQI", raw, off)
            off += 28
            if 8 * nloops > len(raw) - off:
                raise ValueError(f"{name}: resume record claims {nloops} loop counters")
            loops = {}
            for _ in range(nloops):
                op, count = struct.unpack_from("<II", raw, off)
                loops[op] = count
                off += 8
            rate, wss, first, _, count, carry = struct.unpack_from("<IIIIQQ", raw, off)
            off += 32
            out.append({"pc": pc, "flags": flags, "remaining": remaining, "sleep_left": sleep_left,
                        "loops": loops, "dirty": (rate, wss, first, count, carry)})
    except struct.error:
        raise ValueError(f"{name}: the resume record runs past the end of its page") from None
    return out


def resume(kernel) -> None:
    """After restore: irq_resume() (rebind VIRQs), then put every vcpu back where it stopped."""
    from xenlab.guest.cpu import bring_up_vcpu
    d = kernel.d
    now = d.machine.now
    if d.kind == "pv":
        for v in d.vcpus[1:]:                   # the new domain's vcpus but 0 start down: bring them up again
            bring_up_vcpu(kernel, d.vcpus[0], v.vcpu_id)
    for v in d.vcpus:
        bind = ev.evtchn_bind_virq(virq=VIRQ_TIMER, vcpu=v.vcpu_id)
        if kernel.hypercall(v, "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_virq, bind)) == 0:
            kernel.port_handlers[bind.port] = kernel._timer_interrupt
            kernel.virq_ports[(VIRQ_TIMER, v.vcpu_id)] = bind.port
    xenbus_init = getattr(kernel, "_xenbus_init", None)
    if xenbus_init is not None:                      # xs_resume: the watches again, on the new store channel
        xenbus_init()
    records = read_resume_record(d)
    for ctx, rec in zip(kernel.contexts, records):
        ctx.pc = rec["pc"]
        ctx.remaining = rec["remaining"] if rec["flags"] & F_COMPUTING else None
        ctx.loop_counts = dict(rec["loops"])
        ctx.sleep_deadline = None
        if rec["flags"] & F_SLEEPING:
            ctx.sleep_deadline = now + rec["sleep_left"]
            kernel.hypercall(ctx.v, "set_timer_op", ctx.sleep_deadline)
        rate, wss, first, count, carry = rec["dirty"]
        ctx.dirty = (DirtyState(rate, wss, first, count=count, carry=carry, flushed_at=now)
                     if rec["flags"] & F_DIRTY else None)
    d.machine.trace.emit("DOM", "resume", domid=d.domain_id, vcpus=len(records))

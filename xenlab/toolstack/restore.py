"""Restoring a domain: XendCheckpoint.restore around libxc's xc_linux_restore, and ``xm restore``.

Models X@RELEASE-3.0.0:tools/python/xen/xend/XendCheckpoint.py and tools/libxc/xc_linux_restore.c.
The image (save.py describes its layout) is checked as it is read: the signature, the config, every
batch count and pfn; a short read anywhere means a truncated file. The domain is rebuilt on **new**
machine frames: each page goes to wherever the new P2M puts its pfn, and page-table pages are
un-canonicalised (each entry's PFN becomes the new MFN). start_info is patched for the new host
(shared_info address, console page and event channel), vcpu 0's context is loaded, and the guest
resumes (guest/suspend.py): it rebinds its event channels and continues its workload where it stopped.

On any error the half-built domain is destroyed, so a bad file leaves the machine as it was.

Simplifications:
- Pinned page tables are re-pinned by dom0 on the guest's behalf and CR3 is re-taken as a root
  reference, so Xen validates the canonicalised tables again on the new frames; the guest kernel's
  own bookkeeping (which pfns are tables, which are free) is rebuilt from the frame table.
- Only the arch fields (max_pfn) of the saved shared_info page are carried over; event channels are
  rebuilt by the guest's irq_resume and time by Xen, as they would be after restore.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

import numpy as np

from xenlab.hw.memory import PAGE_SIZE
from xenlab.toolstack.save import (MAX_BATCH_SIZE, SIGNATURE, VCPU_GUEST_CONTEXT_FMT, VCPU_GUEST_CONTEXT_SIZE,
                                   CTXT_CALLBACKS, CTXT_CR3, CTXT_CTRLREG, CTXT_EDX, CTXT_KERNEL_SS, CTXT_TRAPS,
                                   canonicalize_pagetable)
from xenlab.toolstack.sxp import SxpError, from_sxp, loads
from xenlab.toolstack.xend import ToolstackError, dom0_op
from xenlab.xen.domain_build import build_domain, write_start_info
from xenlab.xen.page_alloc import OutOfMemory
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import xen as X
from xenlab.xen.public.errno import errno_name
from xenlab.xen.public.memory import mmuext_op_t
from xenlab.xen.public.xen import SI_ARCH_MAX_PFN, start_info

MAX_CONFIG_BYTES = 1 << 20


class RestoreError(ToolstackError):
    """The image is not a valid (or complete) save file; nothing was left behind."""


@dataclass
class RestoreReport:
    domain: str
    domid: int
    max_pfn: int
    batches: int = 0
    pages: int = 0                # pages read (a live image repeats pages: the last copy wins)
    pinned: list = field(default_factory=list)
    unmapped: list = field(default_factory=list)
    bytes: int = 0


class StreamReader:
    def __init__(self, source):
        self.source = source
        self.offset = 0

    def read(self, n: int, what: str) -> bytes:
        data = self.source.read(n)
        self.offset += len(data)
        if len(data) != n:
            raise RestoreError(f"Error: Restore failed: the image is truncated at byte {self.offset} "
                               f"(reading {what}: got {len(data)} of {n} bytes)")
        return data

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.read(4, what))[0]

    def i32(self, what: str) -> int:
        return struct.unpack("<i", self.read(4, what))[0]


def read_header(reader: StreamReader):
    sig = reader.read(len(SIGNATURE), "the signature")
    if sig != SIGNATURE:
        raise RestoreError(f"Error: Restore failed: not a valid guest state file: found {sig!r}, "
                           f"expected {SIGNATURE.decode()!r}")
    (length,) = struct.unpack("!i", reader.read(4, "the config length"))
    if not 0 < length <= MAX_CONFIG_BYTES:
        raise RestoreError(f"Error: Restore failed: config length {length} is not sane (corrupt file?)")
    text = reader.read(length, "the config")
    try:
        return from_sxp(loads(text.decode("utf-8")))
    except (SxpError, UnicodeDecodeError, ValueError, SyntaxError) as exc:
        raise RestoreError(f"Error: Restore failed: the config in the image is corrupt: {exc}") from None


def _create_container(machine, config):
    """What xend does before xc_restore: an empty, paused domain with the config's memory."""
    if machine.domain_by_name(config.name) is not None:
        raise RestoreError(f"Error: Restore failed: domain '{config.name}' already exists")
    create = D.dom0_createdomain()
    if dom0_op(machine, D.DOM0_CREATEDOMAIN, create) < 0:
        raise RestoreError("Error: Restore failed: DOM0_CREATEDOMAIN failed")
    d = machine.domains[create.domain]
    d.config, d.name, d.kind = config, config.name, config.kind
    try:
        if dom0_op(machine, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(d.domain_id, config.vcpus)) < 0:
            raise RestoreError("Error: Restore failed: DOM0_MAX_VCPUS failed")
        dom0_op(machine, D.DOM0_SETDOMAINMAXMEM, D.dom0_setdomainmaxmem(d.domain_id, config.maxmem << 10))
        params = {"weight": config.weight, "cap": config.cap, **config.sched_params}
        wanted = machine.scheduler.get_params(d)
        machine.scheduler.adjust(d, {k: v for k, v in params.items() if k in wanted})
        build_domain(machine, d, config.memory << 8)
    except (OutOfMemory, ToolstackError) as exc:
        machine.domain_destroy(d)
        raise RestoreError(f"Error: Restore failed: cannot build domain {config.name!r}: {exc}") from None
    return d


def xc_linux_restore(machine, d, reader: StreamReader, report: RestoreReport) -> bytes:
    """Read the page stream into d's (new) frames; returns vcpu 0's context (still canonical)."""
    max_pfn = reader.u32("max_pfn")
    if max_pfn != len(d.p2m):
        raise RestoreError(f"Error: Restore failed: the image has {max_pfn} pages, the domain {len(d.p2m)}")
    reader.read(4 * ((max_pfn + 1023) // 1024), "the P2M frame list")
    frames = machine.memory.data.reshape(-1, PAGE_SIZE)
    p2m = np.asarray(d.p2m, dtype=np.int64)
    pinned: dict[int, int] = {}
    while True:
        batch = reader.i32("a batch count")
        if batch == -1:                    # the sender's debug "resend all" mode: nothing to do
            continue
        if batch == 0:
            break
        if not 0 < batch <= MAX_BATCH_SIZE:
            raise RestoreError(f"Error: Restore failed: batch of {batch} pages (max {MAX_BATCH_SIZE}): "
                               "corrupt file")
        types = np.frombuffer(reader.read(4 * batch, "pfn_type"), dtype="<u4")
        pfns = (types & ~np.uint32(D.LTAB_MASK)).astype(np.int64)
        tags = types & np.uint32(D.LTAB_MASK)
        if (pfns >= max_pfn).any():
            raise RestoreError(f"Error: Restore failed: pfn {int(pfns.max()):#x} is beyond max_pfn "
                               f"{max_pfn:#x}: corrupt file")
        real = tags != D.XTAB
        n = int(real.sum())
        pages = np.frombuffer(reader.read(PAGE_SIZE * n, f"{n} pages"), dtype=np.uint8).reshape(n, PAGE_SIZE).copy()
        pfns, tags = pfns[real], tags[real]
        for j in np.flatnonzero(tags & np.uint32(D.LTABTYPE_MASK)):
            tab = int(tags[j]) & D.LTABTYPE_MASK
            pages[j] = canonicalize_pagetable(machine, d, tab, pages[j], to_pfn=False)
        frames[p2m[pfns]] = pages
        for pfn, tag in zip(pfns.tolist(), tags.tolist()):
            if tag & D.LPINTAB:
                pinned[pfn] = tag & D.LTABTYPE_MASK
            else:
                pinned.pop(pfn, None)
        report.batches += 1
        report.pages += n
    count = reader.u32("the unmapped count")
    if count > max_pfn:
        raise RestoreError(f"Error: Restore failed: {count} unmapped pfns of {max_pfn}: corrupt file")
    report.unmapped = list(np.frombuffer(reader.read(4 * count, "the unmapped pfns"), dtype="<u4").tolist())
    ctxt = reader.read(VCPU_GUEST_CONTEXT_SIZE, "the vcpu context")
    shinfo = reader.read(PAGE_SIZE, "the shared_info page")
    machine.memory.write_u32((d.shared_info_mfn << 12) + SI_ARCH_MAX_PFN, max_pfn)
    report.pinned = sorted(pinned.items())
    del shinfo
    return ctxt


_PIN_CMD = {D.L1TAB: X.MMUEXT_PIN_L1_TABLE, D.L2TAB: X.MMUEXT_PIN_L2_TABLE,
            D.L3TAB: X.MMUEXT_PIN_L3_TABLE, D.L4TAB: X.MMUEXT_PIN_L4_TABLE}


def _repin(machine, d, report) -> None:
    """xc_linux_restore: pin every table the guest had pinned, as dom0 on the guest's behalf
    (mmuext_op with foreigndom), so Xen validates them again on the new machine frames."""
    ops = [mmuext_op_t(cmd=_PIN_CMD[tab], mfn=d.p2m[pfn]) for pfn, tab in report.pinned]
    if not ops:
        return
    done = [0]
    rc = machine.dom0.hypercall("mmuext_op", ops, len(ops), done, d.domain_id)
    if rc < 0:
        raise RestoreError(f"Error: Restore failed: Xen refused to pin page table {done[0] + 1} of "
                           f"{len(ops)} ({errno_name(rc)}): the image's page tables are not valid")


def _set_cr3(d, cr3_maddr: int) -> None:
    """arch_set_info_guest: take the root-table reference for the restored CR3."""
    from xenlab.xen.mm import new_guest_cr3
    if cr3_maddr and not new_guest_cr3(d.vcpus[0], cr3_maddr >> 12):
        raise RestoreError(f"Error: Restore failed: CR3 {cr3_maddr:#x} is not a valid root page table")


def _load_context(machine, d, ctxt: bytes) -> int:
    """DOM0_SETVCPUCONTEXT for vcpu 0; returns the start_info pfn (the suspend record in EDX)."""
    f = struct.unpack(VCPU_GUEST_CONTEXT_FMT, ctxt)
    si_pfn = f[CTXT_EDX]
    if si_pfn >= len(d.p2m):
        raise RestoreError(f"Error: Restore failed: the suspend record pfn {si_pfn:#x} is out of range")
    try:
        from xenlab.xen.public.arch_x86_32 import trap_info
        from xenlab.xen.traps import arch
    except ImportError:                                 # the CPU chapter is not there: nothing to load
        return si_pfn
    a = arch(d.vcpus[0])
    raw = f[CTXT_TRAPS]
    a.trap_ctxt = [trap_info(*struct.unpack_from("<BBHI", raw, 8 * i)) for i in range(256)]
    a.kernel_ss, a.kernel_sp = f[CTXT_KERNEL_SS], f[CTXT_KERNEL_SS + 1]
    a.ctrlreg = list(f[CTXT_CTRLREG:CTXT_CTRLREG + 8])
    if f[CTXT_CR3]:
        a.ctrlreg[3] = d.p2m[f[CTXT_CR3] >> 12] << 12                  # PFN -> the new MFN
        _set_cr3(d, a.ctrlreg[3])
    (a.event_callback_cs, a.event_callback_eip, a.failsafe_callback_cs,
     a.failsafe_callback_eip) = f[CTXT_CALLBACKS:CTXT_CALLBACKS + 4]
    return si_pfn


def _patch_start_info(machine, d, si_pfn: int) -> start_info:
    """xc_linux_restore's start_info rewrite: the guest left console/store as pfns before suspending."""
    mfn = d.p2m[si_pfn]
    info = start_info.unpack(machine.memory.read_bytes(mfn << 12, 1104))
    console_pfn, store_pfn = info.console_mfn, info.store_mfn
    info = replace(info, nr_pages=len(d.p2m), shared_info=d.shared_info_mfn << 12, flags=0,
                   console_mfn=d.p2m[console_pfn] if console_pfn < len(d.p2m) else 0,
                   store_mfn=d.p2m[store_pfn] if 0 < store_pfn < len(d.p2m) else 0)
    d.start_info_mfn = mfn
    d.console_mfn = info.console_mfn
    return info


def restore_domain(machine, source, *, paused: bool = False):
    """XendCheckpoint.restore: returns (domain, RestoreReport). Raises RestoreError on a bad image."""
    reader = StreamReader(source)
    config = read_header(reader)
    d = _create_container(machine, config)
    report = RestoreReport(config.name, d.domain_id, len(d.p2m))
    try:
        ctxt = xc_linux_restore(machine, d, reader, report)
        _repin(machine, d, report)
        si_pfn = _load_context(machine, d, ctxt)
        info = _patch_start_info(machine, d, si_pfn)
    except Exception:
        machine.domain_destroy(d)
        raise
    report.bytes = reader.offset
    alloc = ev.evtchn_alloc_unbound(dom=d.domain_id, remote_dom=0)
    machine.dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc))
    d.console_port = alloc.port
    write_start_info(machine, d, replace(info, console_evtchn=alloc.port))
    machine.xend.consoled.attach(d, alloc.port)
    from xenlab.guest import make_kernel
    from xenlab.guest.suspend import resume
    d.kernel = make_kernel(d)
    if d.kind == "pv" and d.vcpus[0].cr3:
        from xenlab.guest.mm import GuestMM
        d.kernel.mm = GuestMM.from_restored(d)          # the kernel's view of the tables it had
    for hook in machine.xend.on_create:
        hook(d)
    resume(d.kernel)
    machine.xend.configs[d.domain_id] = config
    machine.trace.emit("DOM", "restore", domid=d.domain_id, name=d.name, pages=report.pages)
    if not paused:
        dom0_op(machine, D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(d.domain_id))
    return d, report


def _register_xm() -> None:
    from xenlab.toolstack.xm import XmError, XmResult, command

    @command("restore")
    def cmd_restore(machine, args) -> XmResult:
        paused = "-p" in args or "--paused" in args
        rest = [a for a in args if not a.startswith("-")]
        if len(rest) != 1:
            raise XmError("Error: expected one file. Usage: xm restore <CheckpointFile> [-p]")
        try:
            with open(rest[0], "rb") as fh:
                d, report = restore_domain(machine, fh, paused=paused)
        except FileNotFoundError:
            raise XmError(f"Error: Restore failed: file {rest[0]!r} not found") from None
        except ToolstackError as exc:
            msg = str(exc)
            raise XmError(msg if msg.startswith("Error") else f"Error: {msg}") from None
        return XmResult("restore", "", [{"name": d.name, "domid": d.domain_id, "pages": report.pages}])


_register_xm()

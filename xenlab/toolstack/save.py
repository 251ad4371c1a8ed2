"""Saving a domain: xend's XendCheckpoint.save around libxc's xc_linux_save, and ``xm save``.

Models X@RELEASE-3.0.0:tools/python/xen/xend/XendCheckpoint.py and tools/libxc/xc_linux_save.c.
The image is a real byte stream in Xen 3.0's format (x86_32, so ``unsigned long`` is 4 bytes):

    "LinuxGuestRecord"                  16 bytes, xend's signature
    !i config length, config SXP        big-endian length, then the domain's configuration text
    max_pfn                             then xc_linux_save's stream, little-endian:
    P2M frame list                      one entry per 1024 pfns
    { int batch; pfn_type[batch]; pages }   batch <= MAX_BATCH_SIZE; pfn_type = page-type tag | pfn
    int 0                               end of the page phase
    unsigned count, pfns                pfns not mapped at the end
    vcpu_guest_context                  vcpu 0, with EDX (start_info), GDT frames and CR3 as pfns
    shared_info page                    4096 bytes

Page-table pages are **canonicalised** on the way out: each present entry's MFN is replaced by the
PFN it maps (the M2P table gives it), and the entries of Xen's own slots are zeroed, so the image
means the same thing on any host. A live save (migration, migrate.py) runs the same loop in several
iterations over the log-dirty bitmap (xen/shadow.py); ``precopy_should_stop`` is its stop rule.
``xm save`` and migration go through checkpoint.py, which checks the target before the guest is
suspended and resumes the guest when a save fails after it (``save_domain`` alone does not).

Simplifications:
- The guest's P2M table is a Python list (``d.p2m``), not frames of guest memory, so the P2M frame
  list carries 0xFFFFFFFF entries unless the guest names its P2M frames (``d.p2m_frame_pfns``).
- Without page tables in the guest (no CR3), the model does not refuse the save, as xc_linux_save
  does ("not in a valid Linux guest OS state").
- The model's log-dirty mode sees the guest's own writes only (xen/shadow.py). Xen's writes into a
  guest (bounce frames on its stack, vcpu_info) and dom0's (console and xenstore ring indices) are
  not logged, so before the last iteration the sender compares a checksum of every page with the one
  it sent and adds the changed pages to the last iteration as fixups (``Iteration.fixups``), as
  xc_linux_save's ``to_fix`` pages are.
- Saving to a file takes no simulated time unless a ``Link`` is given; over a link, each batch takes
  the time the rate limiter would give it (or the wire's, when nothing limits the rate).

Two pre-copy algorithms (``algorithm=``), each labelled with its source:
- ``"adaptive"``, the default: the paper's dynamic rate-limiting (Clark et al., NSDI'05 §5.3; the code
  under ``#ifdef ADAPTIVE_SAVE`` in xc_linux_save.c, live in RELEASE-2.0.6): the rate starts at 100 Mb/s
  and rises after each iteration to the guest's dirtying rate + 50 Mb/s, at most 500; the pre-copy also
  stops when the rate is at that maximum and an iteration sent more than the one before ("rate").
- ``"3.0.0"``, Xen 3.0.0 as built: nothing defines ADAPTIVE_SAVE (X@RELEASE-3.0.0:tools/libxc/
  xc_linux_save.c:173, 254-258), so ``RATE_IS_MAX()`` is 0 and ``ratewrite`` is a plain ``write``: the
  pages go at the wire's speed (``WIRE_MBIT``) and the pre-copy stops only at 29 iterations, at 3x the
  memory sent, or with fewer than 50 pages to send (:1049-1052).
The course defaults to the paper's algorithm because the lecture and the paper describe it; chapter 14
runs both on the same hot guest.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from xenlab.hw.memory import PAGE_SIZE
from xenlab.toolstack.sxp import dumps, to_sxp
from xenlab.toolstack.xend import ToolstackError, dom0_op
from xenlab.xen.page_alloc import (PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table,
                                   PGT_pinned, PGT_type_mask)
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.shadow import bitmap_buffer, bitmap_to_bools

SIGNATURE = b"LinuxGuestRecord"
MAX_BATCH_SIZE = 1024
DEF_MAX_ITERS = 29           # "limit us to 30 times round loop"
DEF_MAX_FACTOR = 3           # "never send more than 3x nr_pfns"
MAX_MBIT_RATE = 500          # maximum transmit rate for migrate
START_MBIT_RATE = 100        # initial transmit rate for migrate
RATE_TO_BTU = 781250         # us per 100 KiB burst at 1 Mb/s (xc_linux_save's scaling factor)
BURST_BUDGET = 100 * 1024    # bytes per burst
STOP_PAGES = 50              # "sent_this_iter + skip_this_iter < 50"
WIRE_MBIT = 1000             # switched Gigabit Ethernet, as in NSDI'05's testbed: 3.0.0's unthrottled speed
PRECOPY_ALGORITHMS = ("adaptive", "3.0.0")
INVALID_P2M_ENTRY = 0xFFFFFFFF
VCPU_GUEST_CONTEXT_FMT = "<512sI" + "7IHHIHBBIIHHHHHHHHHH" + "2048s" + "2I" + "16II" + "2I" + "8I" + "8I" + "4I" + "I"
VCPU_GUEST_CONTEXT_SIZE = struct.calcsize(VCPU_GUEST_CONTEXT_FMT)     # 2800 on x86_32 (3.0)
CTXT_EDX, CTXT_TRAPS, CTXT_CR3 = 4, 27, 52   # user_regs.edx, trap_ctxt, ctrlreg[3] in the unpacked tuple
CTXT_KERNEL_SS, CTXT_CTRLREG, CTXT_CALLBACKS, CTXT_VM_ASSIST = 47, 49, 65, 69
VGCF_IN_KERNEL = 1 << 2
PTE_PRESENT = 1
L2_PAGETABLE_SHIFT = 22             # 2-level paging


# -- the stop rule and the rate (what the exercise asks for) -------------------------------------------
def precopy_should_stop(iteration: int, sent_this_iter: int, sent_last_iter: int, skip_this_iter: int,
                        total_sent: int, max_pfn: int, rate_mbit: int, max_iters: int = DEF_MAX_ITERS,
                        max_factor: int = DEF_MAX_FACTOR) -> str | None:
    """Why the next iteration must be the last (xc_linux_save, live mode), or None to go on."""
    if sent_this_iter > sent_last_iter and rate_mbit == MAX_MBIT_RATE:
        return "rate"            # sending more than last time, and already at the maximum rate
    if iteration >= max_iters:
        return "iterations"
    if sent_this_iter + skip_this_iter < STOP_PAGES:
        return "few pages"
    if total_sent > max_pfn * max_factor:
        return "factor"
    return None


def precopy_should_stop_300(iteration: int, sent_this_iter: int, sent_last_iter: int, skip_this_iter: int,
                            total_sent: int, max_pfn: int, rate_mbit: int, max_iters: int = DEF_MAX_ITERS,
                            max_factor: int = DEF_MAX_FACTOR) -> str | None:
    """Xen 3.0.0 as built: the same test with RATE_IS_MAX() defined as 0, so never "rate"."""
    if iteration >= max_iters:
        return "iterations"
    if sent_this_iter + skip_this_iter < STOP_PAGES:
        return "few pages"
    if total_sent > max_pfn * max_factor:
        return "factor"
    return None


def next_rate(rate_mbit: int, dirty_pages: int, elapsed_ns: int) -> int:
    """print_stats() under ADAPTIVE_SAVE: if the guest dirtied faster than we send, send at that + 50."""
    wall_delta_ms = max(1, elapsed_ns // 1_000_000)
    dirtied_mbit = (dirty_pages * PAGE_SIZE) // (wall_delta_ms * 125)
    if dirtied_mbit > rate_mbit:
        return min(dirtied_mbit + 50, MAX_MBIT_RATE)
    return rate_mbit


def permute(i: np.ndarray, nr: int, order_nr: int) -> np.ndarray:
    """xc_linux_save's scan order: rotate the pfn's bits by 10 so nearby pfns are spread out."""
    i = np.asarray(i, dtype=np.int64)
    mask = (1 << order_nr) - 1
    out = i.copy()
    todo = np.ones(i.shape, dtype=bool)
    while todo.any():
        out[todo] = ((out[todo] >> (order_nr - 10)) | (out[todo] << 10)) & mask if order_nr >= 10 else out[todo]
        todo = out >= nr
    return out


def scan_order(max_pfn: int) -> np.ndarray:
    order_nr = max(0, int(max_pfn - 1).bit_length())
    return permute(np.arange(max_pfn), max_pfn, order_nr)


_SUM_WEIGHTS = (np.arange(PAGE_SIZE // 8, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)


def page_sums(pages: np.ndarray) -> np.ndarray:
    """A 64-bit checksum per page (rows of 4096 bytes), to notice pages changed behind our back."""
    return (pages.view(np.uint64) * _SUM_WEIGHTS).sum(axis=1, dtype=np.uint64)


# -- the link the stream travels over --------------------------------------------------------------------
@dataclass
class Link:
    """A network link with xc_linux_save's rate limiter: ``rate_mbit`` may change between iterations."""
    rate_mbit: int = START_MBIT_RATE
    latency_ns: int = 0

    def ns_for(self, nbytes: int) -> int:
        return self.latency_ns + nbytes * RATE_TO_BTU * 1000 // (BURST_BUDGET * self.rate_mbit)


@dataclass
class Iteration:
    iteration: int
    start_ns: int
    end_ns: int = 0
    sent: int = 0                 # pages
    skipped: int = 0              # pages deferred because dirtied again (to_skip)
    dirtied: int = 0              # pages the log-dirty CLEAN after it reported
    rate_mbit: int = 0
    bytes: int = 0
    last: bool = False
    fixups: int = 0               # pages changed behind the log-dirty mode, added to the last iteration

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass
class SaveReport:
    domain: str
    max_pfn: int
    live: bool
    iterations: list = field(default_factory=list)
    stop_reason: str = ""
    suspended_at: int = 0         # ns (source clock)
    finished_at: int = 0
    started_at: int = 0
    bytes: int = 0

    @property
    def total_sent(self) -> int:
        return sum(it.sent for it in self.iterations)


class StreamWriter:
    """Counts what goes into the sink, so a link can charge time for it."""

    def __init__(self, sink):
        self.sink = sink
        self.bytes = 0

    def write(self, data) -> int:
        n = write_all(self.sink, data)
        self.bytes += n
        return n


def write_all(sink, data) -> int:
    """Write every byte: an unbuffered file may take fewer than it was given (a short write)."""
    view = memoryview(bytes(data))
    total = len(view)
    while view:
        n = sink.write(view)
        if n is None:                       # a non-blocking sink that took nothing: try again
            continue
        if n <= 0:
            raise OSError(28, "No space left on device")
        view = view[n:]
    return total


# -- page types and canonical page tables -----------------------------------------------------------------------
_PGT_TO_TAB = {PGT_l1_page_table: D.L1TAB, PGT_l2_page_table: D.L2TAB,
               PGT_l3_page_table: D.L3TAB, PGT_l4_page_table: D.L4TAB}


def pfn_types(machine, mfns: np.ndarray) -> np.ndarray:
    """get_pfn_type_batch: the LxTAB tag (and LPINTAB) of each frame, from the frame table."""
    ti = machine.frame_table.type_info[mfns]
    tags = np.zeros(len(mfns), dtype=np.uint32)
    for pgt, tab in _PGT_TO_TAB.items():
        tags[(ti & PGT_type_mask) == pgt] = tab
    tags[(tags != 0) & ((ti & PGT_pinned) != 0)] |= D.LPINTAB
    return tags


def canonicalize_pagetable(machine, d, tab: int, page: np.ndarray, to_pfn: bool) -> np.ndarray:
    """Rewrite every present entry's frame MFN->PFN (save) or PFN->MFN (restore, ``to_pfn=False``)."""
    pae = machine.paging == "pae"
    entries = page.view(np.uint64 if pae else np.uint32).copy()
    if not pae and tab == D.L2TAB and to_pfn:
        entries[machine.hypervisor_virt_start >> L2_PAGETABLE_SHIFT:] = 0      # Xen's own slots
    present = (entries & PTE_PRESENT) != 0
    frames = (entries[present].astype(np.uint64) >> np.uint64(12)) & np.uint64(0xFFFFFFF)
    if to_pfn:
        m2p = machine.m2p[frames.astype(np.int64)].astype(np.int64)
        p2m = np.asarray(d.p2m, dtype=np.int64)
        ok = (m2p < len(p2m)) & (p2m[np.minimum(m2p, len(p2m) - 1)] == frames.astype(np.int64))
        new = np.where(ok, m2p, 0)                 # not the guest's own frame: zap it (a "PT race")
    else:
        p2m = np.asarray(d.p2m, dtype=np.int64)
        new = p2m[np.minimum(frames.astype(np.int64), len(p2m) - 1)]
    keep = entries[present] & entries.dtype.type(~(0xFFFFFFF << 12) & (0xFFFFFFFFFFFFFFFF if pae else 0xFFFFFFFF))
    entries[present] = keep | (new.astype(entries.dtype) << entries.dtype.type(12))
    return entries.view(np.uint8)


# -- vcpu context --------------------------------------------------------------------------------------------
def pack_vcpu_context(d, v) -> bytes:
    """struct vcpu_guest_context (x86_32, 3.0) of vcpu ``v``, with machine frame numbers as in Xen."""
    from xenlab.xen.public.arch_x86_32 import FLAT_KERNEL_CS, FLAT_KERNEL_DS
    arch = getattr(v, "arch", None)
    traps = bytearray(2048)
    ctrlreg = [0] * 8
    callbacks = [0, 0, 0, 0]
    kernel_ss = kernel_sp = 0
    if arch is not None:
        for i, t in enumerate(arch.trap_ctxt[:256]):
            struct.pack_into("<BBHI", traps, 8 * i, t.vector & 0xFF, t.flags & 0xFF, t.cs & 0xFFFF, t.address & 0xFFFFFFFF)
        ctrlreg = [int(x) & 0xFFFFFFFF for x in arch.ctrlreg[:8]]
        callbacks = [arch.event_callback_cs, arch.event_callback_eip, arch.failsafe_callback_cs,
                     arch.failsafe_callback_eip]
        kernel_ss, kernel_sp = arch.kernel_ss, arch.kernel_sp
    if not ctrlreg[3]:
        ctrlreg[3] = int(getattr(v, "cr3", 0) or 0) & 0xFFFFFFFF       # guest/mm.py keeps CR3 on the vcpu
    edx = d.start_info_mfn                            # the suspend record: start_info's MFN (3.0)
    user_regs = (0, 0, edx, 0, 0, 0, 0,               # ebx ecx edx esi edi ebp eax
                 0, 0, 0, FLAT_KERNEL_CS, 0, 0,       # error_code entry_vector eip cs saved_upcall_mask pad
                 0x200, 0,                            # eflags (IF) esp
                 FLAT_KERNEL_DS, 0, FLAT_KERNEL_DS, 0, FLAT_KERNEL_DS, 0, 0, 0, 0, 0)   # ss es ds fs gs
    return struct.pack(VCPU_GUEST_CONTEXT_FMT, b"\0" * 512, VGCF_IN_KERNEL, *user_regs, bytes(traps),
                       0, 0, *([0] * 16), 0, kernel_ss, kernel_sp, *ctrlreg, *([0] * 8), *callbacks,
                       getattr(d, "vm_assist", 0))


def canonical_context(machine, d, raw: bytes) -> bytes:
    """Replace EDX's and CR3's MFNs by PFNs (translate_mfn_to_pfn); the model has no GDT frames."""
    fields_ = list(struct.unpack(VCPU_GUEST_CONTEXT_FMT, raw))
    fields_[CTXT_EDX] = int(machine.m2p[fields_[CTXT_EDX]])
    cr3 = fields_[CTXT_CR3]
    if cr3:
        fields_[CTXT_CR3] = int(machine.m2p[cr3 >> 12]) << 12
    return struct.pack(VCPU_GUEST_CONTEXT_FMT, *fields_)


# -- xc_linux_save ------------------------------------------------------------------------------------------------
def _shadow(machine, d, op: int, pages: int = 0):
    sc = D.dom0_shadow_control(domain=d.domain_id, op=op, pages=pages,
                               dirty_bitmap=bitmap_buffer(pages) if pages else None)
    rc = dom0_op(machine, D.DOM0_SHADOW_CONTROL, sc)
    if rc < 0:
        raise ToolstackError(f"DOM0_SHADOW_CONTROL op {op} failed ({rc})")
    return (bitmap_to_bools(sc.dirty_bitmap, pages) if pages else None), sc.stats


def suspend_domain(machine, d) -> None:
    """xend's suspend callback: ask the guest, then check it shut down with SHUTDOWN_suspend."""
    from xenlab.guest.suspend import request_suspend
    if d.kind != "pv" or not hasattr(d.kernel, "contexts"):
        raise ToolstackError(f"Error: domain {d.name} cannot be suspended (only PV guests save in 3.0)")
    if not d.is_shutdown:
        request_suspend(d.kernel)
    machine.do_softirqs()
    if not (d.is_shutdown and d.shutdown_reason == "suspend"):
        raise ToolstackError(f"Error: Domain appears not to have suspended ({d.name})")


def xc_linux_save(machine, d, sink, *, live: bool = False, link: Link | None = None, max_iters: int = 0,
                  max_factor: int = 0, adaptive: bool = True, stop_rule=None,
                  algorithm: str = "adaptive") -> SaveReport:
    """Write ``d``'s memory and state into ``sink``; live mode pre-copies while the guest runs.

    ``stop_rule`` replaces precopy_should_stop (same arguments; a true value ends the pre-copy), so
    an exercise can drive the real loop with a student's rule. ``algorithm`` is "adaptive" (NSDI'05
    §5.3) or "3.0.0" (as built: no rate limit, no "rate" stop); see the module docstring.
    """
    if algorithm not in PRECOPY_ALGORITHMS:
        raise ToolstackError(f"Error: pre-copy algorithm {algorithm!r}: one of {', '.join(PRECOPY_ALGORITHMS)}")
    if algorithm == "3.0.0":
        adaptive = False
        if link is not None:
            link.rate_mbit = WIRE_MBIT           # ratewrite() is write(): as fast as the wire goes
    stop_rule = stop_rule or (precopy_should_stop if algorithm == "adaptive" else precopy_should_stop_300)
    max_iters = max_iters or DEF_MAX_ITERS
    max_factor = max_factor or DEF_MAX_FACTOR
    out = StreamWriter(sink)
    p2m = np.asarray(d.p2m, dtype=np.int64)
    max_pfn = len(p2m)
    report = SaveReport(d.name, max_pfn, live, started_at=machine.now)
    link_rate = link.rate_mbit if link else START_MBIT_RATE

    def spend(nbytes: int) -> None:              # the link carries nbytes; the machine runs meanwhile
        if link is not None:
            machine.run(machine.now + link.ns_for(nbytes))

    frame_list = getattr(d, "p2m_frame_pfns", None) or [INVALID_P2M_ENTRY] * ((max_pfn + 1023) // 1024)
    n = out.write(struct.pack("<I", max_pfn) + struct.pack(f"<{len(frame_list)}I", *frame_list))
    spend(n)
    if live:
        _shadow(machine, d, D.DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY)
        last_iter = False
    else:
        suspend_domain(machine, d)
        report.suspended_at = machine.now
        last_iter = True
    order = scan_order(max_pfn)
    to_send = np.ones(max_pfn, dtype=bool)
    to_skip = np.zeros(max_pfn, dtype=bool)
    sent_last_iter, total_sent, iteration = max_pfn, 0, 0
    sent_sums = np.zeros(max_pfn, dtype=np.uint64)
    stats_at = machine.now
    fixups = 0
    frames = machine.memory.data.reshape(-1, PAGE_SIZE)
    while True:
        iteration += 1
        it = Iteration(iteration, machine.now, rate_mbit=link.rate_mbit if link else 0, last=last_iter,
                       fixups=fixups if last_iter else 0)
        N = 0
        while N < max_pfn:
            if not last_iter:
                to_skip, _ = _shadow(machine, d, D.DOM0_SHADOW_CONTROL_OP_PEEK, max_pfn)
            rest = order[N:]
            want = (to_send[rest] & ~to_skip[rest]) | (to_send[rest] & last_iter)
            pos = np.flatnonzero(want)[:MAX_BATCH_SIZE]
            end = N + (int(pos[-1]) + 1 if pos.size == MAX_BATCH_SIZE else len(rest))
            if not last_iter:
                scanned = order[N:end]
                it.skipped += int(np.count_nonzero(to_send[scanned] & to_skip[scanned]))
            N = end
            if pos.size == 0:
                continue
            pfns = rest[pos]
            mfns = p2m[pfns]
            tags = pfn_types(machine, mfns)
            pages = frames[mfns].copy()
            sent_sums[pfns] = page_sums(pages)
            for j in np.flatnonzero(tags & D.LTABTYPE_MASK):
                tab = int(tags[j]) & D.LTABTYPE_MASK
                pages[j] = canonicalize_pagetable(machine, d, tab, pages[j], to_pfn=True)
            nbytes = out.write(struct.pack("<i", pfns.size) + (tags | pfns.astype(np.uint32)).astype("<u4").tobytes()
                               + pages.tobytes())
            it.sent += int(pfns.size)
            it.bytes += nbytes
            spend(nbytes)
        it.end_ns = machine.now
        total_sent += it.sent
        report.iterations.append(it)
        if last_iter:
            break
        reason = stop_rule(iteration, it.sent, sent_last_iter, it.skipped, total_sent, max_pfn,
                                     link.rate_mbit if link else link_rate, max_iters, max_factor)
        if reason:
            report.stop_reason = reason if isinstance(reason, str) else "stop rule"
            last_iter = True
            suspend_domain(machine, d)
            report.suspended_at = machine.now
        to_send, stats = _shadow(machine, d, D.DOM0_SHADOW_CONTROL_OP_CLEAN, max_pfn)
        it.dirtied = stats.dirty_count
        if last_iter:                          # pages written behind the log-dirty mode: fix them up
            changed = page_sums(frames[p2m]) != sent_sums
            fix = changed & ~to_send
            to_send |= changed
            fixups = int(fix.sum())
        if adaptive and link is not None:
            link.rate_mbit = next_rate(link.rate_mbit, stats.dirty_count, machine.now - stats_at)
        stats_at = machine.now
        sent_last_iter = it.sent
    # The end of the page phase, the unmapped pfns, vcpu 0's context and the shared_info page.
    unmapped = np.flatnonzero(p2m < 0).astype("<u4")
    tail = struct.pack("<i", 0) + struct.pack("<I", unmapped.size) + unmapped.tobytes()
    tail += canonical_context(machine, d, pack_vcpu_context(d, d.vcpus[0]))
    tail += machine.memory.read_bytes(d.shared_info_mfn << 12, PAGE_SIZE)
    spend(out.write(tail))
    if live:
        _shadow(machine, d, D.DOM0_SHADOW_CONTROL_OP_OFF)
    report.finished_at = machine.now
    report.bytes = out.bytes
    if not report.stop_reason:
        report.stop_reason = "not live"
    return report


# -- XendCheckpoint.save and xm save ----------------------------------------------------------------------------
def write_header(machine, d, sink) -> int:
    """The signature, then the config SXP with its !i length."""
    config = machine.xend.configs.get(d.domain_id, d.config)
    text = dumps(to_sxp(config, d.domain_id)).encode()
    return write_all(sink, SIGNATURE + struct.pack("!i", len(text)) + text)


def save_domain(machine, d, sink, *, live: bool = False, link: Link | None = None, destroy: bool = True,
                **kwargs) -> SaveReport:
    """XendCheckpoint.save: header, rename to migrating-<name>, xc_save, then destroy the domain."""
    if d.domain_id == 0:
        raise ToolstackError("Error: Domain-0 cannot be saved")
    if d.kind != "pv":
        raise ToolstackError(f"Error: domain {d.name} is an HVM guest; Xen 3.0 saves only PV guests")
    # A failure leaves the domain named as before; checkpoint.py resumes it if it had suspended.
    name = d.name
    header = write_header(machine, d, sink)
    d.name = f"migrating-{name}"
    machine.trace.emit("DOM", "save_start", domid=d.domain_id, name=name, live=live)
    try:
        report = xc_linux_save(machine, d, sink, live=live, link=link, **kwargs)
    except Exception:
        d.name = name
        raise
    report.bytes += header
    report.domain = name
    machine.trace.emit("DOM", "save_done", domid=d.domain_id, name=name, pages=report.total_sent,
                       iterations=len(report.iterations))
    if destroy:
        dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(d.domain_id))
    return report

"""Log-dirty mode: which guest pages were written since the toolstack last looked.

Models the DOM0_SHADOW_CONTROL part of X@RELEASE-3.0.0:xen/arch/x86/shadow32.c (shadow_mode_control,
shadow_mode_table_op). Live migration (tools/libxc/xc_linux_save.c) needs to know which pages a
running guest writes. Xen switches the domain to shadow page tables whose entries start read-only;
the first write to a page faults into Xen, which sets the page's bit in a dirty bitmap (one bit per
pfn), counts the fault, and makes the shadow entry writable so later writes run at full speed.

The toolstack drives it with DOM0_SHADOW_CONTROL sub-ops:
    ENABLE_LOGDIRTY  start logging (bitmap cleared)
    PEEK             copy the bitmap out, leave it as it is (xc_linux_save's ``to_skip``)
    CLEAN            copy the bitmap out and clear it, return and reset the stats (the next ``to_send``)
    OFF              stop logging
Like Xen, every op pauses the domain around its work, so no write is half-logged.

Simplifications:
- No shadow page tables: a guest write calls :func:`mark_dirty` directly (the guest workload's
  "dirty" operation does, guest/xenlinux.py), standing for the write fault on a read-only shadow
  entry. Writes that Xen or dom0 make into a guest's frames are not logged, as in 3.0 where foreign
  mappings bypass the shadow.
- A running guest's writes are computed in bulk at the end of its compute slice; pausing the domain
  (as every op here does) deschedules it, which brings its writes up to date before the bitmap is read.
- ENABLE_TEST, ENABLE_TRANSLATE and FLUSH only switch the mode; there are no shadows to build or flush.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import errno as E

# Shadow mode bits (X@RELEASE-3.0.0:xen/include/asm-x86/shadow.h:42-52).
SHM_enable = 1 << 0
SHM_refcounts = 1 << 1
SHM_write_all = 1 << 2
SHM_log_dirty = 1 << 3
SHM_translate = 1 << 4
SHM_external = 1 << 5
SHM_wr_pt_pte = 1 << 6


@dataclass
class ShadowState:
    """d->arch.shadow_mode, the dirty bitmap (one bool per pfn) and the counters of shadow32.c."""
    mode: int
    dirty: np.ndarray
    fault_count: int = 0
    dirty_count: int = 0

    def __repr__(self) -> str:
        return (f"<ShadowState mode={self.mode:#x} {int(self.dirty.sum())}/{self.dirty.size} dirty, "
                f"faults={self.fault_count}>")


def log_dirty_enabled(d) -> bool:
    s = getattr(d, "shadow", None)
    return s is not None and bool(s.mode & SHM_log_dirty)


def mark_dirty(d, pfns) -> int:
    """A guest wrote pfns: set their bits (first write after a CLEAN faults). Returns new bits set."""
    s = getattr(d, "shadow", None)
    if s is None or not s.mode & SHM_log_dirty:
        return 0
    pfns = np.asarray(pfns, dtype=np.int64)
    pfns = pfns[(pfns >= 0) & (pfns < s.dirty.size)]
    if pfns.size == 0:
        return 0
    fresh = np.unique(pfns[~s.dirty[pfns]])
    s.dirty[fresh] = True
    s.fault_count += int(fresh.size)          # one write fault per page per round
    s.dirty_count += int(fresh.size)
    if fresh.size and d.machine.trace.active:
        d.machine.trace.emit("MEM", "log_dirty", domid=d.domain_id, pages=int(fresh.size))
    return int(fresh.size)


def _copy_bitmap(s: ShadowState, sc: D.dom0_shadow_control) -> None:
    """Copy the bitmap into the caller's buffer, as unsigned longs: bit n of byte n // 8."""
    pages = min(int(sc.pages), s.dirty.size)
    sc.pages = pages
    if sc.dirty_bitmap is None:
        return
    packed = np.packbits(s.dirty[:pages], bitorder="little")
    buf = sc.dirty_bitmap
    if len(buf) < packed.size:
        raise ValueError(f"dirty_bitmap holds {len(buf)} bytes, {packed.size} needed for {pages} pages")
    buf[:packed.size] = packed.tobytes()


def shadow_mode_control(d, sc: D.dom0_shadow_control, current) -> int:
    """DOM0_SHADOW_CONTROL on domain ``d`` (never on the caller itself: -EINVAL, as in Xen)."""
    if d is current.domain:
        return -E.EINVAL
    machine = d.machine
    machine.domain_pause_by_systemcontroller(d)        # domain_pause(d): no write is half-logged
    try:
        return _op(d, sc)
    finally:
        machine.domain_unpause_by_systemcontroller(d)


def _op(d, sc: D.dom0_shadow_control) -> int:
    op = sc.op
    s = getattr(d, "shadow", None)
    trace = d.machine.trace
    if op == D.DOM0_SHADOW_CONTROL_OP_OFF:
        d.shadow = None
        trace.emit("MEM", "shadow_off", domid=d.domain_id)
        return 0
    if op in (D.DOM0_SHADOW_CONTROL_OP_ENABLE_TEST, D.DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY,
              D.DOM0_SHADOW_CONTROL_OP_ENABLE_TRANSLATE):
        mode = {D.DOM0_SHADOW_CONTROL_OP_ENABLE_TEST: SHM_enable,
                D.DOM0_SHADOW_CONTROL_OP_ENABLE_LOGDIRTY: SHM_enable | SHM_log_dirty,
                D.DOM0_SHADOW_CONTROL_OP_ENABLE_TRANSLATE: SHM_enable | SHM_translate}[op]
        d.shadow = ShadowState(mode | (s.mode if s else 0), np.zeros(len(d.p2m), dtype=bool))
        trace.emit("MEM", "shadow_enable", domid=d.domain_id, mode=d.shadow.mode)
        return 0
    if s is None:
        return -E.EINVAL                                # table ops need shadow mode on
    if op == D.DOM0_SHADOW_CONTROL_OP_FLUSH:
        return 0
    if op in (D.DOM0_SHADOW_CONTROL_OP_CLEAN, D.DOM0_SHADOW_CONTROL_OP_PEEK):
        if s.dirty.size < len(d.p2m):                   # the guest grew (balloon): grow the bitmap
            s.dirty = np.concatenate([s.dirty, np.zeros(len(d.p2m) - s.dirty.size, dtype=bool)])
        sc.stats = D.dom0_shadow_control_stats(fault_count=s.fault_count, dirty_count=s.dirty_count)
        _copy_bitmap(s, sc)
        if op == D.DOM0_SHADOW_CONTROL_OP_CLEAN:
            trace.emit("MEM", "log_dirty_clean", domid=d.domain_id, dirty=int(s.dirty.sum()),
                       faults=s.fault_count)
            s.dirty[:] = False
            s.fault_count = s.dirty_count = 0
        return 0
    return -E.EINVAL


def bitmap_to_bools(bitmap, pages: int) -> np.ndarray:
    """The toolstack's view of a bitmap buffer: one bool per pfn."""
    return np.unpackbits(np.frombuffer(bytes(bitmap), dtype=np.uint8), bitorder="little", count=pages).astype(bool)


def bitmap_buffer(pages: int) -> bytearray:
    """A zeroed buffer for ``pages`` bits, rounded up to whole unsigned longs as xc_linux_save allocates."""
    return bytearray(((pages + 31) // 32) * 4)

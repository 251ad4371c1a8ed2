"""A workload that writes memory: the guest side of the ("dirty", pages_per_sec, working_set_pages) op.

Live migration is a race between the copier and the guest's writes (NSDI'05 §4, the writable
working set). The op ``("dirty", rate, wss[, first_pfn])`` makes every following ``compute`` write
``rate`` pages per second of computing, sweeping round a working set of ``wss`` pages starting at
``first_pfn`` (like the paper's "MMuncher" when wss is large). ``("dirty", 0, 0)`` stops writing.

Each write stores a real 8-byte value (the vcpu's write counter) into the page, at word
``pfn % 512``, so a page's bytes tell which write touched it last; then the stores go through the CPU (hw/idt.py
``log_dirty_write``): in log-dirty mode each page is read-only in Xen's shadow, and the write fault
enters Xen's handler, which marks the page in the log-dirty bitmap (xen/shadow.py ``mark_dirty``).

Writes are computed in bulk, up to "now", when a compute slice ends or the vcpu is descheduled
(switch_out); with an integer remainder so the long-run rate is exact. Only the last write to each
page survives in memory, so a bulk of n writes costs O(min(n, wss)).

By default the working set sits in the middle of the guest's memory: away from pfns 0-2 (start_info,
console, xenstore ring), from page tables, which a kernel builds low, and from I/O buffers, which
the kernel's page allocator hands out from the top (XenLinux.alloc_page).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xenlab.hw import idt

NS_PER_S = 1_000_000_000
WORDS_PER_PAGE = 512


@dataclass
class DirtyState:
    rate: int                   # pages written per second of compute
    wss: int                    # pages in the working set
    first_pfn: int
    count: int = 0              # writes made so far (the value stored by write k is k + 1)
    carry: int = 0              # pages x ns not yet turned into a whole write
    flushed_at: int = 0         # ns: writes are accounted up to here
    mfns: np.ndarray | None = None      # the working set's machine frames (rebuilt after restore)

    def __repr__(self) -> str:
        return f"<DirtyState {self.rate} pages/s over {self.wss} pages from pfn {self.first_pfn}, {self.count} writes>"


FIRST_FREE_PFN = 3             # 0 start_info, 1 console ring, 2 xenstore ring


def default_first_pfn(nr_pages: int, wss: int) -> int:
    """The working set centred in the guest's memory, never below FIRST_FREE_PFN."""
    return max(FIRST_FREE_PFN, (nr_pages - wss) // 2)


def nr_pfns(kernel) -> int:
    """How many pfns the kernel has: its P2M's length (PV), or the pages of its guest-physical memory."""
    mm = getattr(kernel, "mm", None)
    if mm is not None and getattr(mm, "p2m", None) is not None:
        return len(mm.p2m)
    return len(kernel.d.p2m)                   # no P2M of its own (HVM): the size of its memory


def frames_of(kernel, first: int, n: int) -> np.ndarray:
    """The machine frames behind pfns first..first+n-1: the PV kernel's own P2M array; for an HVM
    kernel (which knows no machine frames) what the CPU reaches through Xen's physical map."""
    mm = getattr(kernel, "mm", None)
    if mm is not None and getattr(mm, "p2m", None) is not None:
        return mm.p2m.array()[first:first + n]
    from xenlab.hw import vmx
    return np.asarray([vmx.guest_phys(kernel.d, p << 12) >> 12 for p in range(first, first + n)], dtype=np.int64)


def validate_op(op: tuple) -> str | None:
    """Why a dirty op is malformed, or None."""
    if len(op) not in (3, 4) or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0
                                         for x in op[1:]):
        return "dirty takes (pages_per_sec, working_set_pages[, first_pfn]), whole numbers >= 0"
    if op[1] > 0 and op[2] == 0:
        return "dirty: a positive rate needs a working set of at least one page"
    return None


def dirty_op(ctx, op: tuple) -> None:
    """Execute ("dirty", rate, wss[, first_pfn]) on VcpuContext ``ctx``: zero time, sets the mode."""
    d = ctx.v.domain
    now = d.machine.now
    flush_writes(ctx, now)
    rate, wss = op[1], op[2]
    if rate == 0 or wss == 0:
        ctx.dirty = None
        return
    nr = nr_pfns(ctx.kernel)
    first = op[3] if len(op) > 3 else default_first_pfn(nr, wss)
    if first < FIRST_FREE_PFN or first + wss > nr:
        ctx.kernel.panic(ctx.v, f"dirty: working set pfns {first}..{first + wss - 1} are outside "
                                f"pfns {FIRST_FREE_PFN}..{nr - 1} of this {nr}-page guest")
        return
    ctx.dirty = DirtyState(rate, wss, first, flushed_at=now)


def flush_writes(ctx, now: int) -> int:
    """Make the writes of the compute time since the last flush; returns how many were made."""
    ds = getattr(ctx, "dirty", None)
    if ds is None or ctx.remaining is None:
        return 0
    start = max(ds.flushed_at, ctx.run_start)
    ds.flushed_at = max(ds.flushed_at, now)
    if now <= start:
        return 0
    n, ds.carry = divmod(ds.carry + ds.rate * (now - start), NS_PER_S)
    if n:
        write_pages(ctx.v.domain, ds, int(n), ctx.kernel)
    return int(n)


def write_pages(d, ds: DirtyState, n: int, kernel=None) -> None:
    """Writes ds.count .. ds.count+n-1; write k goes to pfn first + k % wss (only the last wss matter)."""
    if ds.mfns is None or ds.mfns.size != ds.wss:
        ds.mfns = np.asarray(frames_of(kernel if kernel is not None else d.kernel, ds.first_pfn, ds.wss),
                             dtype=np.int64)
    kept = min(n, ds.wss)
    k = np.arange(ds.count + n - kept, ds.count + n, dtype=np.int64)
    idx = k % ds.wss
    words = d.machine.memory.data.view(np.uint64)
    words[ds.mfns[idx] * WORDS_PER_PAGE + (ds.first_pfn + idx) % WORDS_PER_PAGE] = (k + 1).astype(np.uint64)
    ds.count += n
    idt.log_dirty_write(d, ds.first_pfn + idx)      # a write fault per page Xen keeps read-only

"""Restoring a domain: XendCheckpoint.restore around libxc's xc_linux_restore, and ``xm restore``.

Models X@RELEASE-3.0.0:tools/python/xen/xend/XendCheckpoint.py and tools/libxc/xc_linux_restore.c.
The image (save.py describes its layout) is checked as it is read: the signature, the config, every
batch count and pfn; a short read anywhere means a truncated file. The domain is rebuilt on **new**
machine frames: each page goes to wherever the new P2M puts its pfn, and page-table pages are
un-canonicalised (each entry's PFN becomes the new MFN). start_info is patched for the new host
(shared_info address, console page and event channel), vcpu 0's context is loaded, and the guest
resumes (guest/suspend.py): it rebinds its event channels and continues its workload where it stopped.

The whole image is checked before anything is built (``validate_image``, xc_linux_restore's checks):
the signature and the config (and that this host can run it: name, memory, devices, scheduler
parameters, workload), max_pfn against the config, each batch's count, pfns and page types, every
present entry of every page-table page (it must name a pfn of the image), the unmapped pfns, vcpu 0's
context (the suspend record in EDX must be a plain page; CR3 must name the image's top-level table,
so CR3 = 0 or a pfn outside the image is refused), the guest's resume record, and nothing after the
shared_info page. Only Xen's own checks remain for the build (re-pinning validates the page tables);
if one fails the half-built domain is destroyed, so a bad file leaves the machine as it was.

The build goes through dom0's hypercalls only, as xc_linux_restore's does: DOM0_CREATEDOMAIN,
DOM0_MAX_VCPUS, DOM0_SETDOMAINMAXMEM (and DOM0_ADJUSTDOM), memory_op XENMEM_increase_reservation for
the new domain, mmu_update MMU_MACHPHYS_UPDATE for each new frame's M2P entry, each batch of pages
written through a writable privcmd mapping (dom0/privcmd.py), mmuext_op pins with foreigndom,
DOM0_SETDOMAININFO for vcpu 0 (Xen takes the root reference on CR3 and checks the tables), start_info
and shared_info patched through mappings, then xend's console and store set-up and DOM0_UNPAUSEDOMAIN.

Simplifications:
- The new frames are the ones increase_reservation returns (3.0.0 asks DOM0_GETMEMLIST for them;
  the model's GETMEMLIST walks the guest's P2M, which is still empty then).
- The new P2M, which xc_linux_restore writes into the guest's P2M frames, is handed to the model's
  guest kernel as a list when it resumes (``_resume_guest``); the kernel's own bookkeeping (which
  pfns are tables, which are free) is rebuilt from the frame table.
- Only the arch fields (max_pfn) of the saved shared_info page are carried over; event channels are
  rebuilt by the guest's irq_resume and time by Xen, as they would be after restore.
"""
from __future__ import annotations

import shutil
import struct
import tempfile
from dataclasses import dataclass, field, replace

import numpy as np

from xenlab.hw.memory import PAGE_SIZE
from xenlab.i18n import t
from xenlab.toolstack.save import (DEF_MAX_FACTOR, MAX_BATCH_SIZE, SIGNATURE, VCPU_GUEST_CONTEXT_FMT, VCPU_GUEST_CONTEXT_SIZE,
                                   CTXT_CALLBACKS, CTXT_CR3, CTXT_CTRLREG, CTXT_EDX, CTXT_KERNEL_SS, CTXT_TRAPS,
                                   CTXT_VM_ASSIST, canonicalize_pagetable)
from xenlab.toolstack.sxp import SxpError, from_sxp, loads
from xenlab.toolstack import xc
from xenlab.toolstack.xc import ToolstackError, dom0_op
from xenlab.toolstack.xend import check_config, sched_params
from xenlab.xen.public import dom0_ops as D
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import xen as X
from xenlab.xen.public.errno import errno_name
from xenlab.xen.public.arch_x86_32 import trap_info
from xenlab.xen.public.memory import mmu_update_t, mmuext_op_t
from xenlab.xen.public.vcpu import cpu_user_regs, vcpu_guest_context
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
    except (SxpError, UnicodeDecodeError, ValueError, SyntaxError, TypeError, KeyError, IndexError,
            AttributeError, MemoryError, RecursionError) as exc:        # the text is untrusted input
        raise RestoreError(f"Error: Restore failed: the config in the image is corrupt: {exc}") from None


def _create_container(machine, config, domid: int = 0):
    """What xend and xc_linux_restore do before the pages arrive: an empty, paused domain
    (DOM0_CREATEDOMAIN, DOM0_MAX_VCPUS, DOM0_SETDOMAINMAXMEM, DOM0_ADJUSTDOM), then its memory
    (memory_op XENMEM_increase_reservation for the domain) and the M2P entries of its new frames
    (mmu_update MMU_MACHPHYS_UPDATE). Returns (xend's record of the domain, the new P2M)."""
    if machine.domain_by_name(config.name) is not None:
        raise RestoreError(f"Error: Restore failed: domain '{config.name}' already exists")
    create = D.dom0_createdomain(domain=domid)
    if dom0_op(machine, D.DOM0_CREATEDOMAIN, create) < 0:
        raise RestoreError("Error: Restore failed: DOM0_CREATEDOMAIN failed")
    domid = create.domain
    d = machine.domain_record(domid)
    d.config, d.name, d.kind = config, config.name, config.kind
    nr_pfns = config.memory << 8
    try:
        if dom0_op(machine, D.DOM0_MAX_VCPUS, D.dom0_max_vcpus(domid, config.vcpus)) < 0:
            raise RestoreError("Error: Restore failed: DOM0_MAX_VCPUS failed")
        dom0_op(machine, D.DOM0_SETDOMAINMAXMEM, D.dom0_setdomainmaxmem(domid, config.maxmem << 10))
        params = sched_params(machine, config)
        if params:
            rc = dom0_op(machine, D.DOM0_ADJUSTDOM, D.dom0_adjustdom(domid, xc.sched_id(machine),
                                                                     D.SCHED_INFO_PUT, params))
            if rc < 0:
                raise RestoreError(f"Error: Restore failed: DOM0_ADJUSTDOM {params}: {errno_name(rc)}")
        p2m = np.asarray(xc.memory_increase_reservation(machine, domid, nr_pfns), dtype=np.int64)
        for i in range(0, nr_pfns, MAX_BATCH_SIZE):          # xc_add_mmu_update(MMU_MACHPHYS_UPDATE)
            reqs = [mmu_update_t((int(m) << 12) | X.MMU_MACHPHYS_UPDATE, i + j)
                    for j, m in enumerate(p2m[i:i + MAX_BATCH_SIZE])]
            rc = xc.mmu_update(machine, reqs, domid)
            if rc < 0:
                raise RestoreError(f"Error: Restore failed: MMU_MACHPHYS_UPDATE: {errno_name(rc)}")
    except ToolstackError as exc:
        dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(domid))
        raise RestoreError(f"Error: Restore failed: cannot build domain {config.name!r}: {exc}") from None
    return d, p2m


# -- the whole image, checked before anything is built ---------------------------------------------------
_TAB_NAMES = {D.NOTAB: "NOTAB", D.L1TAB: "L1TAB", D.L2TAB: "L2TAB", D.L3TAB: "L3TAB", D.L4TAB: "L4TAB",
              D.XTAB: "XTAB"}
IMAGE_SLACK = 64 << 10             # bytes of an image besides its pages, -1 markers and batch headers


def _fail(key: str, **kw) -> RestoreError:
    return RestoreError("Error: " + t("toolstack.restore.failed", reason=t(key, **kw)))


def seekable(source):
    """The restorer reads the image twice (check, then build): spool a pipe or socket first."""
    try:
        if source.seekable():
            return source
    except (AttributeError, OSError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool


@dataclass
class ImageIndex:
    """What the check pass learnt: where the page stream starts and each pfn's last copy."""
    config: object
    stream_start: int
    max_pfn: int
    last_copy: np.ndarray          # byte offset of the last copy of each pfn's page, -1: never sent
    tags: np.ndarray               # its LxTAB tag (LPINTAB included)
    si_pfn: int = 0


def _check_pagetable(page: np.ndarray, tag: int, pfn: int, max_pfn: int, pae: bool) -> None:
    """uncanonicalize_pagetable's check: every present entry names a pfn of the image."""
    entries = page.view("<u8" if pae else "<u4")
    present = (entries & 1) != 0
    targets = (entries >> (12)) & (0xFFFFFFFF if pae else 0xFFFFF)
    bad = np.flatnonzero(present & (targets >= max_pfn))
    if bad.size:
        i = int(bad[0])
        raise _fail("toolstack.restore.pt_pfn", level=(tag & D.LTABTYPE_MASK) >> D.LTAB_SHIFT, pfn=pfn,
                    index=i, target=int(targets[i]), max_pfn=max_pfn)


def validate_image(machine, source, replacing=None) -> ImageIndex:
    """Read the whole image once and check it as xc_linux_restore would, building nothing.

    Checks the signature, the config (and that this machine can host it: name, memory, devices,
    scheduler parameters), max_pfn against the config, every batch (count, pfns, page types, page
    tables pointing inside the image), the unmapped pfns, vcpu 0's context (the suspend record in
    EDX must be a plain page; CR3 must name the image's top-level page table) and the guest's resume
    record, and that nothing follows the shared_info page. ``replacing`` is a domain about to make
    room for this one (its name and memory count as free). Leaves the source at its end.
    """
    from xenlab.guest.suspend import RECORD_OFFSET, parse_resume_record
    start = source.tell()
    reader = StreamReader(source)
    config = read_header(reader)
    if config.kind != "pv":
        raise _fail("toolstack.restore.kind")
    try:
        check_config(machine, config, replacing=replacing)
    except ToolstackError as exc:
        raise RestoreError("Error: " + t("toolstack.restore.failed", reason=str(exc).removeprefix("Error: ")))
    stream_start = reader.offset
    max_pfn = reader.u32("max_pfn")
    pages_wanted = config.memory << 8
    if max_pfn != pages_wanted:
        raise _fail("toolstack.restore.max_pfn", max_pfn=max_pfn, memory=config.memory, pages=pages_wanted)
    limit = IMAGE_SLACK + (DEF_MAX_FACTOR + 2) * max_pfn * (PAGE_SIZE + 4)
    reader.read(4 * ((max_pfn + 1023) // 1024), "the P2M frame list")
    pae = machine.paging == "pae"
    last = np.full(max_pfn, -1, dtype=np.int64)
    tags_of = np.zeros(max_pfn, dtype=np.uint32)
    # the page-table levels of this paging mode: 2-level has L1/L2, PAE adds L3 (L4 is x86_64's)
    valid = np.array([D.NOTAB, D.L1TAB, D.L2TAB] + ([D.L3TAB] if pae else []), dtype=np.uint32)
    while True:
        if reader.offset - stream_start > limit:
            raise _fail("toolstack.restore.too_big", size=reader.offset, memory=config.memory, limit=limit)
        head = _batch_header(reader)
        if head is None:
            continue
        batch, pfns, tags = head
        if batch == 0:
            break
        real = tags != D.XTAB
        kinds = tags & np.uint32(D.LTABTYPE_MASK)
        pinned_plain = ((tags & np.uint32(D.LPINTAB)) != 0) & (kinds == D.NOTAB)    # only tables are pinned
        odd = real & (~np.isin(kinds, valid) | pinned_plain)
        if odd.any():
            j = int(np.flatnonzero(odd)[0])
            raise _fail("toolstack.restore.bad_tag", pfn=int(pfns[j]), tag=int(pfns[j]) | int(tags[j]))
        if (pfns[real] >= max_pfn).any():
            raise RestoreError(f"Error: Restore failed: pfn {int(pfns[real].max()):#x} is beyond max_pfn "
                               f"{max_pfn:#x}: corrupt file")
        pfns, tags = pfns[real], tags[real]
        n = int(real.sum())
        at = reader.offset
        raw = reader.read(PAGE_SIZE * n, f"{n} pages")
        pages = np.frombuffer(raw, dtype=np.uint8).reshape(n, PAGE_SIZE)
        for j in np.flatnonzero(tags & np.uint32(D.LTABTYPE_MASK)):
            _check_pagetable(pages[j], int(tags[j]), int(pfns[j]), max_pfn, pae)
        last[pfns] = at + PAGE_SIZE * np.arange(n)
        tags_of[pfns] = tags
    count = reader.u32("the unmapped count")
    if count > max_pfn:
        raise RestoreError(f"Error: Restore failed: {count} unmapped pfns of {max_pfn}: corrupt file")
    unmapped = np.frombuffer(reader.read(4 * count, "the unmapped pfns"), dtype="<u4")
    if (unmapped >= max_pfn).any():
        raise _fail("toolstack.restore.unmapped", pfn=int(unmapped.max()), max_pfn=max_pfn)
    ctxt = struct.unpack(VCPU_GUEST_CONTEXT_FMT, reader.read(VCPU_GUEST_CONTEXT_SIZE, "the vcpu context"))
    reader.read(PAGE_SIZE, "the shared_info page")
    end = reader.offset
    extra = len(source.read(IMAGE_SLACK))
    if extra:
        raise _fail("toolstack.restore.trailing", extra=extra if extra < IMAGE_SLACK else f">{IMAGE_SLACK}")
    si_pfn = ctxt[CTXT_EDX]
    if si_pfn >= max_pfn or tags_of[si_pfn] != D.NOTAB or last[si_pfn] < 0:
        raise _fail("toolstack.restore.suspend_record", pfn=si_pfn, max_pfn=max_pfn)
    cr3 = ctxt[CTXT_CR3]
    if cr3 == 0:
        raise _fail("toolstack.restore.cr3_zero")
    root = cr3 >> 12
    if root >= max_pfn:
        raise _fail("toolstack.restore.cr3_range", cr3=cr3, pfn=root, max_pfn=max_pfn)
    want = D.L3TAB if pae else D.L2TAB
    got = int(tags_of[root]) & D.LTABTYPE_MASK
    if got != want or last[root] < 0:
        raise _fail("toolstack.restore.cr3_type", cr3=cr3, pfn=root, want=_TAB_NAMES[want],
                    got=_TAB_NAMES.get(got, hex(got)) if last[root] >= 0 else "-")
    source.seek(int(last[si_pfn]))
    si_page = source.read(PAGE_SIZE)
    try:
        start_info.unpack(si_page[:1104])
        records = parse_resume_record(si_page[RECORD_OFFSET:], config.name)
    except ValueError as exc:
        raise _fail("toolstack.restore.resume_record", why=exc) from None
    if len(records) != config.vcpus:
        raise _fail("toolstack.restore.vcpus", found=len(records), vcpus=config.vcpus)
    source.seek(end)
    del start
    return ImageIndex(config, stream_start, max_pfn, last, tags_of, si_pfn)


def _batch_header(reader: StreamReader):
    """One batch's count and pfn_type list: None for the sender's debug "resend all" marker (-1),
    (0, None, None) at the end of the pages, else (count, pfns, type tags). A count past
    MAX_BATCH_SIZE is a corrupt file."""
    batch = reader.i32("a batch count")
    if batch == -1:
        return None
    if batch == 0:
        return 0, None, None
    if not 0 < batch <= MAX_BATCH_SIZE:
        raise RestoreError(f"Error: Restore failed: batch of {batch} pages (max {MAX_BATCH_SIZE}): "
                           "corrupt file")
    types = np.frombuffer(reader.read(4 * batch, "pfn_type"), dtype="<u4")
    return batch, (types & ~np.uint32(D.LTAB_MASK)).astype(np.int64), types & np.uint32(D.LTAB_MASK)


def xc_linux_restore(machine, domid: int, p2m: np.ndarray, reader: StreamReader, report: RestoreReport) -> bytes:
    """Read the page stream into the domain's new frames, each batch through a writable privcmd
    mapping (mmu_update with foreigndom); returns vcpu 0's context (still canonical)."""
    max_pfn = reader.u32("max_pfn")
    if max_pfn != len(p2m):
        raise RestoreError(f"Error: Restore failed: the image has {max_pfn} pages, the domain {len(p2m)}")
    reader.read(4 * ((max_pfn + 1023) // 1024), "the P2M frame list")
    paging, hv_start = machine.paging, machine.hypervisor_virt_start
    pinned: dict[int, int] = {}
    while True:
        head = _batch_header(reader)
        if head is None:
            continue
        batch, pfns, tags = head
        if batch == 0:
            break
        if (pfns >= max_pfn).any():
            raise RestoreError(f"Error: Restore failed: pfn {int(pfns.max()):#x} is beyond max_pfn "
                               f"{max_pfn:#x}: corrupt file")
        real = tags != D.XTAB
        n = int(real.sum())
        pages = np.frombuffer(reader.read(PAGE_SIZE * n, f"{n} pages"), dtype=np.uint8).reshape(n, PAGE_SIZE).copy()
        pfns, tags = pfns[real], tags[real]
        for j in np.flatnonzero(tags & np.uint32(D.LTABTYPE_MASK)):
            tab = int(tags[j]) & D.LTABTYPE_MASK
            pages[j] = canonicalize_pagetable(paging, hv_start, tab, pages[j], p2m, to_pfn=False)
        if n:
            with xc.map_foreign_batch(machine, domid, p2m[pfns].tolist(), writable=True) as region:
                if region.err.any():
                    raise _fail("toolstack2.restore.map_refused", n=int(region.err.sum()))
                region.write_pages(np.arange(n), pages)
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
    reader.read(PAGE_SIZE, "the shared_info page")
    info = xc.domain_getinfo(machine, domid)
    with xc.map_foreign_batch(machine, domid, [info.shared_info_frame], writable=True) as shinfo:
        shinfo.write(0, SI_ARCH_MAX_PFN, struct.pack("<I", max_pfn))
    report.pinned = sorted(pinned.items())
    return ctxt


_PIN_CMD = {D.L1TAB: X.MMUEXT_PIN_L1_TABLE, D.L2TAB: X.MMUEXT_PIN_L2_TABLE,
            D.L3TAB: X.MMUEXT_PIN_L3_TABLE, D.L4TAB: X.MMUEXT_PIN_L4_TABLE}


def _repin(machine, domid: int, p2m, report) -> None:
    """xc_linux_restore: pin every table the guest had pinned, as dom0 on the guest's behalf
    (mmuext_op with foreigndom), so Xen validates them again on the new machine frames."""
    ops = [mmuext_op_t(cmd=_PIN_CMD[tab], mfn=int(p2m[pfn])) for pfn, tab in report.pinned]
    if not ops:
        return
    done = [0]
    rc = xc.mmuext_op(machine, ops, domid, done)
    if rc < 0:
        raise RestoreError(f"Error: Restore failed: Xen refused to pin page table {done[0] + 1} of "
                           f"{len(ops)} ({errno_name(rc)}): the image's page tables are not valid")


def _load_context(machine, domid: int, p2m, ctxt: bytes) -> int:
    """DOM0_SETDOMAININFO for vcpu 0 with the image's context, its PFNs turned into the new MFNs
    (Xen takes the root-table reference for CR3); returns the start_info pfn (the suspend record)."""
    f = struct.unpack(VCPU_GUEST_CONTEXT_FMT, ctxt)
    si_pfn = f[CTXT_EDX]
    if si_pfn >= len(p2m):
        raise RestoreError(f"Error: Restore failed: the suspend record pfn {si_pfn:#x} is out of range")
    raw = f[CTXT_TRAPS]
    traps = [trap_info(*struct.unpack_from("<BBHI", raw, 8 * i)) for i in range(256)]
    ctrlreg = list(f[CTXT_CTRLREG:CTXT_CTRLREG + 8])
    if f[CTXT_CR3]:
        ctrlreg[3] = int(p2m[f[CTXT_CR3] >> 12]) << 12                  # PFN -> the new MFN
    user = f[2:27]                                     # struct cpu_user_regs, after the FPU area and flags
    regs = cpu_user_regs(ebx=user[0], ecx=user[1], edx=int(p2m[si_pfn]), esi=user[3], edi=user[4],
                         ebp=user[5], eax=user[6], eip=user[9], cs=user[10], eflags=user[13], esp=user[14],
                         ss=user[15], es=user[17], ds=user[19], fs=user[21], gs=user[23])
    cb = f[CTXT_CALLBACKS:CTXT_CALLBACKS + 4]
    c = vcpu_guest_context(flags=f[1], user_regs=regs,
                           trap_ctxt=[t for t in traps if t.address], kernel_ss=f[CTXT_KERNEL_SS],
                           kernel_sp=f[CTXT_KERNEL_SS + 1], ctrlreg=ctrlreg, event_callback_cs=cb[0],
                           event_callback_eip=cb[1], failsafe_callback_cs=cb[2], failsafe_callback_eip=cb[3],
                           vm_assist=f[CTXT_VM_ASSIST])
    rc = xc.set_vcpu_context(machine, domid, 0, c)
    if rc < 0:
        raise _fail("toolstack2.restore.context_refused", errno=errno_name(rc), cr3=ctrlreg[3])
    return si_pfn


def _patch_start_info(machine, domid: int, p2m, si_pfn: int) -> start_info:
    """xc_linux_restore's start_info rewrite, through a mapping: the guest left console/store as pfns."""
    info = xc.domain_getinfo(machine, domid)
    with xc.map_foreign_batch(machine, domid, [int(p2m[si_pfn])]) as page:
        old = start_info.unpack(page.read(0, 0, 1104))
    console_pfn, store_pfn = old.console_mfn, old.store_mfn
    return replace(old, nr_pages=len(p2m), shared_info=info.shared_info_frame << 12, flags=0,
                   console_mfn=int(p2m[console_pfn]) if console_pfn < len(p2m) else 0,
                   store_mfn=int(p2m[store_pfn]) if 0 < store_pfn < len(p2m) else 0)


def _write_start_info(machine, domid: int, mfn: int, info: start_info) -> None:
    with xc.map_foreign_batch(machine, domid, [mfn], writable=True) as page:
        page.write(0, 0, info.pack())


def _guest_va_to_mfn(machine, domid: int, cr3: int, va: int) -> int:
    """The machine frame behind a guest virtual address, found by reading the restored guest's own
    page tables through foreign mappings (a software walk from CR3, as libxc's tools do)."""
    pae = machine.paging != "2level"
    if pae:   # PAE: the L3 is 32-byte aligned inside its page; 8-byte entries; 2+9+9+12 bits
        steps = [((cr3 >> 12), (cr3 & 0xFE0) + 8 * (va >> 30), 8), (None, 8 * ((va >> 21) & 511), 8),
                 (None, 8 * ((va >> 12) & 511), 8)]
        mask = 0x000FFFFFFFFFF000
    else:     # two levels of 1024 four-byte entries
        steps = [((cr3 >> 12), 4 * (va >> 22), 4), (None, 4 * ((va >> 12) & 1023), 4)]
        mask = 0xFFFFF000
    mfn = None
    for table, offset, size in steps:
        table = table if table is not None else mfn
        with xc.map_foreign_batch(machine, domid, [table]) as page:
            if page.err.any():
                raise RestoreError(f"Error: Restore failed: cannot map page-table frame {table:#x}")
            entry = int.from_bytes(page.read(0, offset, size), "little")
        if not entry & 1:                                 # _PAGE_PRESENT
            raise RestoreError(f"Error: Restore failed: the guest's P2M address {va:#x} is not mapped")
        mfn = (entry & mask) >> 12
    return mfn


def _write_guest_p2m(machine, domid: int, p2m, mfn_list: int) -> None:
    """xc_linux_restore's last copy, "memcpy(live_p2m, p2m, P2M_SIZE)": the guest's own P2M array (at
    start_info's ``mfn_list``, 4-byte entries) gets the new machine frames, written through writable
    mappings, so the kernel that wakes up reads its new P2M from its own memory."""
    if not mfn_list:
        return
    cr3 = xc.get_vcpu_context(machine, domid, 0).ctrlreg[3]
    per_page = PAGE_SIZE // 4
    for k in range(0, len(p2m), per_page):
        words = [int(m) & 0xFFFFFFFF for m in p2m[k:k + per_page]]
        frame = _guest_va_to_mfn(machine, domid, cr3, mfn_list + (k // per_page) * PAGE_SIZE)
        xc.write_foreign_page(machine, domid, frame, struct.pack(f"<{len(words)}I", *words))


def restore_domain(machine, source, *, paused: bool = False, domid: int = 0):
    """XendCheckpoint.restore: returns (domain, RestoreReport). Raises RestoreError on a bad image.

    The image is checked whole first (validate_image); only then is a domain built (with ``domid``
    when one is wanted and free), so a bad image leaves the machine exactly as it was.
    """
    source = seekable(source)
    begin = source.tell()
    index = validate_image(machine, source)
    source.seek(begin)
    reader = StreamReader(source)
    config = read_header(reader)
    d, p2m = _create_container(machine, config, domid)
    domid = d.domain_id
    report = RestoreReport(config.name, domid, len(p2m))
    try:
        ctxt = xc_linux_restore(machine, domid, p2m, reader, report)
        _repin(machine, domid, p2m, report)
        si_pfn = _load_context(machine, domid, p2m, ctxt)
        info = _patch_start_info(machine, domid, p2m, si_pfn)
    except Exception:
        dom0_op(machine, D.DOM0_DESTROYDOMAIN, D.dom0_domain(domid))
        raise
    del index
    report.bytes = reader.offset
    si_mfn = int(p2m[si_pfn])
    # xend's record of the domain: where its start_info, console and store pages now are.
    d.start_info_mfn, d.console_mfn, d.store_mfn = si_mfn, info.console_mfn, info.store_mfn
    alloc = ev.evtchn_alloc_unbound(dom=domid, remote_dom=0)
    machine.dom0.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc))
    d.console_port = alloc.port
    info = replace(info, console_evtchn=alloc.port)
    if info.store_mfn > 0:                              # completeRestore: XS_INTRODUCE, the domain's home
        store_port = machine.xend.xenstored.introduce(d, info.store_mfn)
        if store_port > 0:
            d.store_port = store_port
            info = replace(info, store_evtchn=store_port)
    _write_start_info(machine, domid, si_mfn, info)
    _write_guest_p2m(machine, domid, p2m, info.mfn_list)
    machine.xend.consoled.attach(d, alloc.port)
    if getattr(d, "xs", None) is not None:
        machine.xend.xenstored.write_domain_home(d, alloc.port, d.store_port)
    _resume_guest(d, p2m)
    for hook in machine.xend.on_create:
        hook(d)
    from xenlab.guest.suspend import resume
    resume(d.kernel)
    machine.xend.configs[domid] = config
    machine.trace.emit("DOM", "restore", domid=domid, name=d.name, pages=report.pages)
    if not paused:
        dom0_op(machine, D.DOM0_UNPAUSEDOMAIN, D.dom0_domain(domid))
        if config.disk or config.vif:
            machine.xend.devices.wait_connected(d)   # resume re-runs the handshake through the watches
    return d, report


def _resume_guest(d, p2m) -> None:
    """The guest kernel wakes in its restored memory: it reads its P2M from its own array (written by
    _write_guest_p2m) and finds its page tables from CR3. Xen's own record of the P2M was kept by
    the MMU_MACHPHYS_UPDATEs. Starting the kernel's code is the model's stand-in for the guest
    resuming at the saved EIP; what it then does is the guest's business, not the toolstack's."""
    from xenlab.guest import make_kernel
    from xenlab.guest.mm import GuestMM
    d.kernel = make_kernel(d)
    d.kernel.mm = GuestMM.from_restored(d)          # the kernel's view of the tables it had


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
            raise XmError("Error: " + t("toolstack.restore.failed",
                                        reason=t("toolstack.restore.not_found", path=rest[0]))) from None
        except OSError as exc:                             # a directory, no permission, an I/O error
            raise XmError("Error: " + t("toolstack.restore.failed", reason=t(
                "toolstack.restore.unreadable", path=rest[0], reason=exc.strerror or exc))) from None
        except ToolstackError as exc:
            msg = str(exc)
            raise XmError(msg if msg.startswith("Error") else f"Error: {msg}") from None
        return XmResult("restore", "", [{"name": d.name, "domid": d.domain_id, "pages": report.pages}])


_register_xm()

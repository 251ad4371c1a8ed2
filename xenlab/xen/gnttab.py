"""Grant tables: how one domain lets another map, copy into or take one of its pages.

Models X@RELEASE-3.0.0:xen/common/grant_table.c (version-1 entries; ``GNTTABOP_copy`` as added in
3.1) with the numbers of public/grant_table.h. Each domain has a *shared* table of 8-byte entries
``{u16 flags, u16 domid, u32 frame}`` in real machine frames (``NR_GRANT_FRAMES`` = 4 frames, 2048
entries), which the guest writes and ``setup_table`` hands back for it to map. Xen keeps, next to
it, a private *active* entry per granted ref with a ``pin`` word of four 8-bit counters
(host-write, host-read, device-write, device-read), and, in the *mapping* domain, a maptrack table
whose index is the ``handle`` a map returns and an unmap names.

Rules (xen-facts section 4):
- map: ref out of range or neither host_map nor device_map -> GNTST_bad_gntref; granting domain
  unknown or the caller itself -> GNTST_bad_domain; maptrack full -> GNTST_no_device_space. The
  first pin needs an entry of type GTF_permit_access naming the caller (else GNTST_general_error);
  Xen sets GTF_reading, and GTF_writing for a writable map (refused on GTF_readonly). The frame must
  be a frame the granter owns (a reference is taken on it, a writable-type reference for writing).
- unmap: a bad handle -> GNTST_bad_handle; the pins drop; no write pin left clears GTF_writing, no
  pin at all clears GTF_reading and the frame references go.
- transfer: the caller gives a page away (it must hold nothing but the allocation reference);
  a bad page -> GNTST_bad_page (the page stays); a missing target -> GNTST_bad_domain; a dying
  target, one at max_pages, or an entry that is not exactly GTF_accept_transfer for the caller ->
  GNTST_general_error. In both of those the page is freed, not returned. On success the owner
  changes, tot_pages moves, Xen writes the MFN into the entry and sets GTF_transfer_completed.
- copy: each side is a grant ref (GNTCOPY_*_gref) or the caller's own frame; an offset or length
  outside one page, read as the C uint16_t fields (so a negative value is a huge one) ->
  GNTST_bad_copy_arg before anything is touched; a frame side naming another domain ->
  GNTST_permission_denied. The destination takes a writable type reference
  (get_page_and_type(.., PGT_writable_page)), so a page-table, GDT or LDT frame is refused
  (GNTST_general_error) exactly as a writable mapping of it would be. A grant
  side is pinned only for the copy (__acquire_grant_for_copy / __release_grant_for_copy): the same
  entry checks and GTF_reading/GTF_writing as a host map, but no maptrack entry, so a full maptrack
  does not stop a copy.

dom0's back ends map with a ``host_addr`` and touch the guest's page through that virtual address
(dom0/gntmap.py: the CPU walks dom0's page tables). ``foreign_page(d, handle)`` remains for mappings
made without one (a checked view: read-only unless mapped writable, never past the page).

Simplifications:
- A host mapping with a ``host_addr`` writes the PTE there in the mapper's current page tables
  (create_grant_va_mapping: the L1 must already exist, else GNTST_general_error with the pin undone)
  and unmap clears it (destroy_grant_va_mapping: the entry must still map the frame, else
  GNTST_general_error and nothing changes). Unlike 3.0.0, the PTE takes its own reference on the
  frame (and a writable type reference if RW), as any L1 entry does; so a guest that overwrites it
  with mmu_update, or frees the L1, releases only what the entry took, and the pin keeps its own.
  ``host_addr`` 0 (what Xen would refuse: no L1 maps address 0) keeps the model's older behaviour,
  a maptrack record only, read through ``ForeignPage``; dom0's backends no longer use it.
- PTE writes flush no TLB (dom0's backends read through a page walk, dom0/gntmap.py).
- PV guests put machine frame numbers in their entries (as XenLinux does with virt_to_mfn), so no
  P2M translation happens in Xen, as for non-translated guests in 3.0.
- The shared table is allocated at the domain's first own grant-table use (setup_table, a map it
  makes, ...), not in domain_create. Another domain naming it (a map, copy or transfer against it, a
  privileged query_size) allocates nothing: a domain without a table has granted nothing. A field of
  an op that is not a whole number gives that op GNTST_general_error with nothing looked up.
- Maptrack is a fixed 1024 entries (3.0 grows it page by page); handles are reused last-freed first.
- No TLB flushes: there is no guest TLB for foreign mappings in the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.hw.memory import PAGE_SHIFT, PAGE_SIZE
from xenlab.xen.hypercall import hypercall
from xenlab.xen.page_alloc import (FREE, PGC_allocated, PGC_count_mask, PGT_count_mask, PGT_type_mask,
                                   PGT_validated, PGT_writable_page)
from xenlab.xen.public import errno as E
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.xen import DOMID_SELF

NR_GRANT_FRAMES = G.NR_GRANT_FRAMES            # 4 frames of shared entries per domain (3.0, x86)
NR_GRANT_ENTRIES = G.NR_GRANT_ENTRIES          # 2048
ENTRIES_PER_FRAME = PAGE_SIZE // G.GRANT_ENTRY_SIZE
MAPTRACK_MAX_ENTRIES = 1024                    # see Simplifications

# The pin word: four 8-bit counters (xen/include/xen/grant_table.h).
GNTPIN_hstw_shift, GNTPIN_hstr_shift, GNTPIN_devw_shift, GNTPIN_devr_shift = 0, 8, 16, 24
GNTPIN_hstw_inc, GNTPIN_hstr_inc = 1 << GNTPIN_hstw_shift, 1 << GNTPIN_hstr_shift
GNTPIN_devw_inc, GNTPIN_devr_inc = 1 << GNTPIN_devw_shift, 1 << GNTPIN_devr_shift
GNTPIN_hstw_mask, GNTPIN_hstr_mask = 0xFF << GNTPIN_hstw_shift, 0xFF << GNTPIN_hstr_shift
GNTPIN_devw_mask, GNTPIN_devr_mask = 0xFF << GNTPIN_devw_shift, 0xFF << GNTPIN_devr_shift
PIN_OVERFLOW_RISK = 0x80808080                 # "a cheesy check for possible pin-count overflow"
MAPTRACK_GNTMAP_MASK = G.GNTMAP_device_map | G.GNTMAP_host_map | G.GNTMAP_readonly

try:                                           # the memory chapter's reference counts, when present
    from xenlab.xen.mm_types import get_page, get_page_type, put_page, put_page_type
except ImportError:                            # pragma: no cover - until xen/mm_types.py lands
    get_page = get_page_type = put_page = put_page_type = None


@dataclass
class ActiveGrantEntry:
    """Xen's private state of one granted ref while it is pinned."""
    pin: int = 0              # four 8-bit counters, see GNTPIN_*
    domid: int = 0            # the grantee holding the pins
    frame: int = 0            # the machine frame pinned

    def counts(self) -> dict[str, int]:
        return {"host_write": self.pin & 0xFF, "host_read": (self.pin >> 8) & 0xFF,
                "dev_write": (self.pin >> 16) & 0xFF, "dev_read": (self.pin >> 24) & 0xFF}


@dataclass
class MaptrackEntry:
    """One mapping made by this domain of another domain's grant; its index is the handle."""
    domid: int                # the granting domain
    ref: int
    flags: int                # GNTMAP_* the map used
    frame: int
    host_addr: int = 0
    pte_ma: int = 0           # machine address of the PTE Xen wrote at host_addr (0: none written)


@dataclass
class GrantTable:
    """struct grant_table of one domain: shared frames, active entries, maptrack."""
    shared_mfns: list[int]
    nr_frames: int = NR_GRANT_FRAMES          # frames the guest asked for with setup_table
    active: dict[int, ActiveGrantEntry] = field(default_factory=dict)   # pinned refs only
    maptrack: list[MaptrackEntry | None] = field(default_factory=lambda: [None] * MAPTRACK_MAX_ENTRIES)
    maptrack_free: list[int] = field(default_factory=lambda: list(range(MAPTRACK_MAX_ENTRIES - 1, -1, -1)))
    stats: dict[str, int] = field(default_factory=dict)

    def entry_maddr(self, ref: int) -> int:
        return (self.shared_mfns[ref // ENTRIES_PER_FRAME] << PAGE_SHIFT) + (ref % ENTRIES_PER_FRAME) * 8

    def mappings(self) -> dict[int, MaptrackEntry]:
        return {h: m for h, m in enumerate(self.maptrack) if m is not None}


# -- the table of a domain, and its entries in real bytes ---------------------------------------------
def grant_table(d) -> GrantTable:
    """``d->grant_table``, created on first use with NR_GRANT_FRAMES zeroed frames shared with d."""
    gt = getattr(d, "grant_table", None)
    if gt is None:
        from xenlab.xen.domain_build import share_xen_page_with_guest
        gt = GrantTable([share_xen_page_with_guest(d.machine, d) for _ in range(NR_GRANT_FRAMES)])
        d.grant_table = gt
    return gt


def read_entry(d, ref: int) -> G.GrantEntryV1:
    mem = d.machine.memory
    a = grant_table(d).entry_maddr(ref)
    return G.GrantEntryV1(mem.read_u16(a), mem.read_u16(a + 2), mem.read_u32(a + 4))


def _peek_entry(d, ref: int) -> G.GrantEntryV1:
    """The entry as read_entry gives it, without creating d's table: a domain that never set its
    table up has granted nothing (all-zero entries). Another domain naming it allocates nothing."""
    if getattr(d, "grant_table", None) is None:
        return G.GrantEntryV1(0, 0, 0)
    return read_entry(d, ref)


def _flags_addr(d, ref: int) -> int:
    return grant_table(d).entry_maddr(ref)


def _set_flags(d, ref: int, set_: int = 0, clear: int = 0) -> None:
    mem = d.machine.memory
    a = _flags_addr(d, ref)
    mem.write_u16(a, (mem.read_u16(a) | set_) & ~clear & 0xFFFF)


def _emit(machine, name: str, d, **payload) -> None:
    if machine.trace.active:
        machine.trace.emit("GNTTAB", name, domid=d.domain_id, **payload)


def _count(gt: GrantTable, key: str) -> None:
    gt.stats[key] = gt.stats.get(key, 0) + 1


# -- frame references (the memory chapter's get_page/get_page_type, or the same rules here) ----------
def _get_page(machine, mfn: int, d) -> bool:
    if get_page is not None:
        return get_page(machine, mfn, d)
    ft = machine.frame_table
    if not 0 <= mfn < ft.nr_frames or int(ft.owner[mfn]) != d.domain_id:
        return False
    ci = int(ft.count_info[mfn])
    if ci & PGC_count_mask in (0, PGC_count_mask):
        return False
    ft.count_info[mfn] = ci + 1
    return True


def _put_page(machine, mfn: int) -> None:
    if put_page is not None:
        put_page(machine, mfn)
        return
    ft = machine.frame_table
    ft.count_info[mfn] = int(ft.count_info[mfn]) - 1


def _get_writable(machine, mfn: int) -> bool:
    if get_page_type is not None:
        return get_page_type(machine, mfn, PGT_writable_page)
    ft = machine.frame_table
    x = int(ft.type_info[mfn])
    if x & PGT_count_mask == 0:
        x = PGT_writable_page | PGT_validated
    elif x & PGT_type_mask != PGT_writable_page or x & PGT_count_mask == PGT_count_mask:
        return False                      # a page table (or the like) is never mapped writable
    ft.type_info[mfn] = x + 1
    return True


def _put_writable(machine, mfn: int) -> None:
    if put_page_type is not None:
        put_page_type(machine, mfn)
        return
    ft = machine.frame_table
    ft.type_info[mfn] = int(ft.type_info[mfn]) - 1


def _find_domain(machine, domid: int):
    d = machine.domains.get(domid)
    return None if d is None or d.is_dying else d


# -- GNTTABOP_map_grant_ref ---------------------------------------------------------------------------------
def gnttab_map_grant_ref(current, op: G.GnttabMapGrantRef) -> None:
    ld = current.domain
    machine = ld.machine
    op.status = _map(ld, op)
    _emit(machine, "map_grant_ref", ld, dom=op.dom, ref=op.ref, flags=op.flags, status=op.status,
          handle=op.handle if op.status == G.GNTST_okay else None)


def _map(ld, op) -> int:
    machine = ld.machine
    flags = op.flags
    if not 0 <= op.ref < NR_GRANT_ENTRIES or not flags & (G.GNTMAP_device_map | G.GNTMAP_host_map):
        return G.GNTST_bad_gntref
    rd = _find_domain(machine, op.dom)
    if rd is None or rd is ld:
        return G.GNTST_bad_domain
    lgt = grant_table(ld)
    if not lgt.maptrack_free:
        return G.GNTST_no_device_space
    status, act = _pin(ld, rd, op.ref, flags)
    if status != G.GNTST_okay:
        return status
    pte_ma = 0
    if flags & G.GNTMAP_host_map and op.host_addr:
        pte_ma = create_grant_host_mapping(ld, rd, op.host_addr, act.frame, flags)
        if not pte_ma:
            _unpin(rd, op.ref, flags)                  # "Failure: undo and abort."
            return G.GNTST_general_error
    handle = lgt.maptrack_free.pop()
    lgt.maptrack[handle] = MaptrackEntry(rd.domain_id, op.ref, flags & MAPTRACK_GNTMAP_MASK, act.frame,
                                         op.host_addr, pte_ma)
    op.handle = handle
    if flags & G.GNTMAP_device_map:
        op.dev_bus_addr = act.frame << PAGE_SHIFT
    _count(lgt, "maps")
    return G.GNTST_okay


def _pin(ld, rd, ref: int, flags: int) -> tuple[int, ActiveGrantEntry | None]:
    """Pin ``rd``'s grant ``ref`` for ``ld`` (GNTMAP_* ``flags``): the active-entry half of a map, also
    what a copy does for the length of the copy (__acquire_grant_for_copy). No maptrack entry."""
    machine = ld.machine
    readonly = bool(flags & G.GNTMAP_readonly)
    sha = _peek_entry(rd, ref)
    if sha.flags & G.GTF_type_mask != G.GTF_permit_access:
        return G.GNTST_general_error, None    # no table yet, or nothing granted there: no allocation
    rgt = grant_table(rd)
    act = rgt.active.get(ref)
    if act is None or act.pin == 0:
        # First pin: the guest's entry must permit access to us.
        if sha.flags & G.GTF_type_mask != G.GTF_permit_access or sha.domid != ld.domain_id:
            return G.GNTST_general_error, None
        if not readonly and sha.flags & G.GTF_readonly:
            return G.GNTST_general_error, None
        frame = sha.frame
        if not _get_page(machine, frame, rd):
            return G.GNTST_general_error, None
        if not readonly and not _get_writable(machine, frame):
            _put_page(machine, frame)
            return G.GNTST_general_error, None
        _set_flags(rd, ref, G.GTF_reading | (0 if readonly else G.GTF_writing))
        act = rgt.active[ref] = ActiveGrantEntry(0, ld.domain_id, frame)
    else:
        if act.domid != ld.domain_id or act.pin & PIN_OVERFLOW_RISK:
            return G.GNTST_general_error, None
        if not readonly and not act.pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask):
            # The first writable pin of an entry already pinned read-only.
            if sha.flags & G.GTF_readonly or not _get_writable(machine, act.frame):
                return G.GNTST_general_error, None
            _set_flags(rd, ref, G.GTF_writing)
    if flags & G.GNTMAP_device_map:
        act.pin += GNTPIN_devr_inc if readonly else GNTPIN_devw_inc
    if flags & G.GNTMAP_host_map:
        act.pin += GNTPIN_hstr_inc if readonly else GNTPIN_hstw_inc
    return G.GNTST_okay, act


# -- the PTE a host mapping writes in the mapper's page tables (X@RELEASE-3.0.0:xen/arch/x86/mm.c) ------
GRANT_PTE_FLAGS = 0x001 | 0x020 | 0x040 | 0x800     # _PAGE_PRESENT|_ACCESSED|_DIRTY|_PAGE_GNTTAB (AVAIL2)


def _grant_l1e_address(ld, va: int) -> int:
    """linear_pg_table[l1_linear_offset(va)] of the mapper's running vcpu: the machine address of the
    L1 entry for ``va`` in its current page tables, or 0 when no L1 maps ``va`` (the __copy_from_user
    of the old entry would fault), ``va`` is in Xen's area, or the L1 is not one of the mapper's."""
    from xenlab.xen.mm_types import HYPERVISOR_VIRT_START, PGT_l1_page_table
    machine = ld.machine
    mode = machine.paging
    if not isinstance(va, int) or isinstance(va, bool) or not 0 <= va < HYPERVISOR_VIRT_START[mode]:
        return 0
    cr3 = ld.vcpus[0].cr3 if ld.vcpus else 0
    if not cr3:
        return 0
    mem, addr = machine.memory, 0xFFFFFF000
    if mode == "pae":
        l3e = mem.read_u64(cr3 + (va >> 30) * 8)
        if not l3e & 1:
            return 0
        pde = mem.read_u64((l3e & addr) + ((va >> 21) & 511) * 8)
        if not pde & 1 or pde & 0x80:
            return 0
        ma = (pde & addr) + ((va >> 12) & 511) * 8
    else:
        pde = mem.read_u32(cr3 + (va >> 22) * 4)
        if not pde & 1 or pde & 0x80:
            return 0
        ma = (pde & 0xFFFFF000) + ((va >> 12) & 1023) * 4
    ft, l1 = machine.frame_table, ma >> PAGE_SHIFT
    if int(ft.owner[l1]) != ld.domain_id or int(ft.type_info[l1]) & PGT_type_mask != PGT_l1_page_table \
            or not int(ft.type_info[l1]) & PGT_count_mask:
        return 0
    return ma


def create_grant_host_mapping(ld, rd, va: int, frame: int, flags: int) -> int:
    """create_grant_va_mapping: write the PTE for ``frame`` at ``va`` in the mapper's tables and release
    what the old entry held. Returns the PTE's machine address, or 0 (GNTST_general_error, nothing
    changed). The entry takes its own frame reference (see Simplifications), so whatever later
    removes it, this path or the L1's teardown, releases exactly what it took."""
    from xenlab.xen.mm_types import get_page_and_type, put_page_from_l1e
    machine = ld.machine
    ma = _grant_l1e_address(ld, va)
    if not ma:
        return 0
    writable = not flags & G.GNTMAP_readonly
    pte = (frame << PAGE_SHIFT) | GRANT_PTE_FLAGS | (0x002 if writable else 0) \
        | (0x004 if flags & G.GNTMAP_application_map else 0)
    ok = get_page_and_type(machine, frame, rd, PGT_writable_page) if writable else _get_page(machine, frame, rd)
    if not ok:
        return 0
    esize = 4 if machine.paging == "2level" else 8
    old = machine.memory.read(ma, esize)
    machine.memory.write(ma, esize, pte)
    put_page_from_l1e(machine, old)
    return ma


def _drop_grant_pte(ld, m: MaptrackEntry) -> bool:
    """Clear the grant PTE if the mapper's L1 still holds it; release the entry's reference."""
    from xenlab.xen.mm_types import PGT_l1_page_table, put_page_from_l1e
    machine = ld.machine
    ft, l1 = machine.frame_table, m.pte_ma >> PAGE_SHIFT
    esize = 4 if machine.paging == "2level" else 8
    if int(ft.owner[l1]) != ld.domain_id or int(ft.type_info[l1]) & PGT_type_mask != PGT_l1_page_table \
            or not int(ft.type_info[l1]) & PGT_count_mask:
        return False                                   # the L1 is gone: its teardown released the entry
    old = machine.memory.read(m.pte_ma, esize)
    if not old & 1 or (old >> PAGE_SHIFT) & 0xFFFFFF != m.frame:
        return False
    machine.memory.write(m.pte_ma, esize, 0)
    put_page_from_l1e(machine, old)
    return True


def destroy_grant_host_mapping(ld, m: MaptrackEntry, va: int) -> bool:
    """destroy_grant_va_mapping: the entry at ``va`` must still map the granted frame (else
    GNTST_general_error); then it is cleared."""
    if _grant_l1e_address(ld, va) != m.pte_ma:
        return False
    return _drop_grant_pte(ld, m)


# -- GNTTABOP_unmap_grant_ref ---------------------------------------------------------------------------------
def gnttab_unmap_grant_ref(current, op: G.GnttabUnmapGrantRef) -> None:
    ld = current.domain
    op.status = _unmap(ld, op.handle, op.host_addr)
    _emit(ld.machine, "unmap_grant_ref", ld, handle=op.handle, status=op.status)


def _unmap(ld, handle: int, host_addr: int = 0, dying: bool = False) -> int:
    machine = ld.machine
    lgt = grant_table(ld)
    m = lgt.maptrack[handle] if isinstance(handle, int) and 0 <= handle < MAPTRACK_MAX_ENTRIES else None
    if m is None or not m.flags & (G.GNTMAP_device_map | G.GNTMAP_host_map):
        return G.GNTST_bad_handle
    rd = machine.domains.get(m.domid)
    if rd is None or rd is ld:
        return G.GNTST_bad_domain
    if m.pte_ma:
        if dying:                                      # the mapper's tables are going: drop the entry if
            _drop_grant_pte(ld, m)                     # its L1 still holds it
        elif not destroy_grant_host_mapping(ld, m, host_addr or m.host_addr):
            return G.GNTST_general_error               # the PTE no longer maps the frame: nothing changes
    _unpin(rd, m.ref, m.flags)
    lgt.maptrack[handle] = None
    lgt.maptrack_free.append(handle)                   # put_maptrack_handle: reused first
    _count(lgt, "unmaps")
    return G.GNTST_okay


def _unpin(rd, ref: int, flags: int) -> None:
    """Drop the pin ``_pin(.., rd, ref, flags)`` took: no write pin left clears GTF_writing, no pin at
    all clears GTF_reading and releases the frame."""
    machine = rd.machine
    rgt = grant_table(rd)
    act = rgt.active[ref]
    readonly = bool(flags & G.GNTMAP_readonly)
    if flags & G.GNTMAP_device_map:
        act.pin -= GNTPIN_devr_inc if readonly else GNTPIN_devw_inc
    if flags & G.GNTMAP_host_map:
        act.pin -= GNTPIN_hstr_inc if readonly else GNTPIN_hstw_inc
    if not readonly and not act.pin & (GNTPIN_devw_mask | GNTPIN_hstw_mask):
        _put_writable(machine, act.frame)              # the last writable mapping is gone
        _set_flags(rd, ref, clear=G.GTF_writing)
    if act.pin == 0:
        _set_flags(rd, ref, clear=G.GTF_reading)
        del rgt.active[ref]
        _put_page(machine, act.frame)                  # the last reference of a dead granter's page
        if rd.is_dying:
            rd.put_domain()


# -- GNTTABOP_setup_table and query_size -----------------------------------------------------------------------
def gnttab_setup_table(current, op: G.GnttabSetupTable) -> None:
    ld = current.domain
    op.frame_list = []
    if not 0 <= op.nr_frames <= NR_GRANT_FRAMES:         # uint32_t: a negative count is a huge one
        op.status = G.GNTST_general_error
    elif op.dom != DOMID_SELF and not ld.is_privileged:
        op.status = G.GNTST_permission_denied
    else:
        d = ld if op.dom == DOMID_SELF else _find_domain(ld.machine, op.dom)
        if d is None:
            op.status = G.GNTST_bad_domain
        else:
            gt = grant_table(d)
            gt.nr_frames = max(gt.nr_frames, op.nr_frames) if op.nr_frames else gt.nr_frames
            op.frame_list = gt.shared_mfns[:op.nr_frames]
            op.status = G.GNTST_okay
    _emit(ld.machine, "setup_table", ld, dom=op.dom, nr_frames=op.nr_frames, status=op.status,
          frames=list(op.frame_list))


def gnttab_query_size(current, op: G.GnttabQuerySize) -> None:
    ld = current.domain
    if op.dom != DOMID_SELF and not ld.is_privileged:
        op.status = G.GNTST_permission_denied
        return
    d = ld if op.dom == DOMID_SELF else _find_domain(ld.machine, op.dom)
    if d is None:
        op.status = G.GNTST_bad_domain
        return
    gt = getattr(d, "grant_table", None) if d is not ld else grant_table(d)
    op.nr_frames = gt.nr_frames if gt is not None else NR_GRANT_FRAMES     # asking allocates nothing
    op.max_nr_frames = NR_GRANT_FRAMES
    op.status = G.GNTST_okay


# -- GNTTABOP_transfer ---------------------------------------------------------------------------------------
def steal_page(machine, d, mfn: int) -> bool:
    """steal_page_for_grant_transfer: d gives up a frame that nobody else references."""
    ft = machine.frame_table
    if int(ft.owner[mfn]) != d.domain_id or mfn in machine.xen_heap_frames:
        return False
    if int(ft.count_info[mfn]) != (PGC_allocated | 1) or int(ft.type_info[mfn]) & PGT_count_mask:
        return False                       # mapped, pinned or typed: someone still uses it
    ft.owner[mfn] = FREE                   # ownerless while in flight (page_set_owner(page, NULL))
    ft.type_info[mfn] = 0
    d.tot_pages -= 1
    gpfn = int(machine.m2p[mfn])
    if 0 <= gpfn < len(d.p2m) and d.p2m[gpfn] == mfn:      # Xen's record: d no longer has it
        d.p2m[gpfn] = 0xFFFFFFFF
    return True


def _free_stolen(machine, mfn: int) -> None:
    ft = machine.frame_table
    ft.owner[mfn] = 0                      # so free() sees an owned frame; nobody is charged for it
    machine.m2p[mfn] = 0xFFFFFFFF
    ft.free([mfn], machine.memory)


def gnttab_transfer(current, op: G.GnttabTransfer) -> None:
    ld = current.domain
    machine = ld.machine
    op.status = _transfer(ld, op)
    _emit(machine, "transfer", ld, mfn=op.mfn, to=op.domid, ref=op.ref, status=op.status)


def _transfer(ld, op) -> int:
    machine = ld.machine
    mfn = op.mfn
    if not isinstance(mfn, int) or not 0 <= mfn < machine.frame_table.nr_frames \
            or mfn in machine.xen_heap_frames:
        return G.GNTST_bad_page
    if not steal_page(machine, ld, mfn):
        return G.GNTST_bad_page
    # From here on the page no longer belongs to the caller, whatever happens.
    e = _find_domain(machine, op.domid)
    if e is None:
        _free_stolen(machine, mfn)
        return G.GNTST_bad_domain
    ok_ref = 0 <= op.ref < NR_GRANT_ENTRIES
    sha = _peek_entry(e, op.ref) if ok_ref else None
    if (e.is_shutdown or e.tot_pages >= e.max_pages or sha is None
            or sha.flags != G.GTF_accept_transfer or sha.domid != ld.domain_id):
        _free_stolen(machine, mfn)
        return G.GNTST_general_error
    _set_flags(e, op.ref, G.GTF_transfer_committed)      # e's table exists: its entry accepted us
    ft = machine.frame_table
    ft.owner[mfn] = e.domain_id
    ft.count_info[mfn] = PGC_allocated | 1
    e.tot_pages += 1
    a = grant_table(e).entry_maddr(op.ref)
    machine.memory.write_u32(a + 4, mfn)               # sha->frame = mfn; wmb();
    _set_flags(e, op.ref, G.GTF_transfer_completed)
    _count(grant_table(ld), "transfers")
    return G.GNTST_okay


# -- GNTTABOP_copy (3.1) --------------------------------------------------------------------------------------
def _u(value, bits: int) -> int | None:
    """A guest's value read as the C field's unsigned type: None when it has no such value (not an
    int, or outside 0..2**bits-1: a negative offset is a huge unsigned one, as in C)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        return None
    return value


def _copy_side(ld, ptr: G.GnttabCopyPtr, is_gref: bool, writing: bool):
    """(status, domain, frame, release) for one side of a copy; release() drops what was taken."""
    machine = ld.machine
    if _u(ptr.domid, 16) is None or _u(ptr.u, 32) is None:
        return G.GNTST_general_error, None, 0, None
    if ptr.domid != DOMID_SELF and ptr.domid != ld.domain_id and not is_gref:
        return G.GNTST_permission_denied, None, 0, None
    d = ld if ptr.domid in (DOMID_SELF, ld.domain_id) else _find_domain(machine, ptr.domid)
    if d is None:
        return G.GNTST_bad_domain, None, 0, None
    if not is_gref:
        if not _get_page(machine, ptr.u, d):
            return G.GNTST_bad_page, None, 0, None
        if writing and not _get_writable(machine, ptr.u):
            # get_page_and_type(d_frame, dd, PGT_writable_page): a page table, GDT or LDT frame is
            # never a copy destination, exactly as it can never be mapped writable.
            _put_page(machine, ptr.u)
            return G.GNTST_general_error, None, 0, None
        if writing:
            return G.GNTST_okay, d, ptr.u, lambda: (_put_writable(machine, ptr.u), _put_page(machine, ptr.u))
        return G.GNTST_okay, d, ptr.u, lambda: _put_page(machine, ptr.u)
    if not 0 <= ptr.u < NR_GRANT_ENTRIES:
        return G.GNTST_bad_gntref, None, 0, None
    # __acquire_grant_for_copy: a host pin for the length of the copy, no maptrack entry. A writing
    # pin takes the writable type reference itself (_pin), so the granted frame is checked the same way.
    flags = G.GNTMAP_host_map | (0 if writing else G.GNTMAP_readonly)
    status, act = _pin(ld, d, ptr.u, flags)
    if status != G.GNTST_okay:
        return status, None, 0, None
    return G.GNTST_okay, d, act.frame, lambda: _unpin(d, ptr.u, flags)


def gnttab_copy(current, op: G.GnttabCopy) -> None:
    ld = current.domain
    machine = ld.machine
    op.status = _copy(ld, op)
    side = lambda p: (p.domid, p.u) if isinstance(p, G.GnttabCopyPtr) else None   # noqa: E731
    _emit(machine, "copy", ld, src=side(op.source), dst=side(op.dest), len=op.len, status=op.status)


def _copy(ld, op: G.GnttabCopy) -> int:
    machine = ld.machine
    # __gnttab_copy: "if ( (op->source.offset + op->len) > PAGE_SIZE || (op->dest.offset + op->len) >
    # PAGE_SIZE ) PIN_FAIL(GNTST_bad_copy_arg)" on uint16_t fields: unsigned, so a "negative" offset
    # or length is a huge one and fails here, before anything is looked up or touched.
    if not isinstance(op.source, G.GnttabCopyPtr) or not isinstance(op.dest, G.GnttabCopyPtr):
        return G.GNTST_bad_copy_arg
    soff, doff, n = _u(op.source.offset, 16), _u(op.dest.offset, 16), _u(op.len, 16)
    flags = _u(op.flags, 16)
    if soff is None or doff is None or n is None or flags is None \
            or soff + n > PAGE_SIZE or doff + n > PAGE_SIZE:
        return G.GNTST_bad_copy_arg
    st, _sd, sframe, srel = _copy_side(ld, op.source, bool(flags & G.GNTCOPY_source_gref), False)
    if st != G.GNTST_okay:
        return st
    st, _dd, dframe, drel = _copy_side(ld, op.dest, bool(flags & G.GNTCOPY_dest_gref), True)
    if st != G.GNTST_okay:
        srel()
        return st
    mem = machine.memory
    src = (sframe << PAGE_SHIFT) + soff
    dst = (dframe << PAGE_SHIFT) + doff
    mem.data[dst:dst + n] = mem.data[src:src + n]
    drel()
    srel()
    _count(grant_table(ld), "copies")
    return G.GNTST_okay


# -- the hypercall ---------------------------------------------------------------------------------------------
_OPS = {
    G.GNTTABOP_map_grant_ref: (G.GnttabMapGrantRef, gnttab_map_grant_ref),
    G.GNTTABOP_unmap_grant_ref: (G.GnttabUnmapGrantRef, gnttab_unmap_grant_ref),
    G.GNTTABOP_setup_table: (G.GnttabSetupTable, gnttab_setup_table),
    G.GNTTABOP_transfer: (G.GnttabTransfer, gnttab_transfer),
    G.GNTTABOP_copy: (G.GnttabCopy, gnttab_copy),
    G.GNTTABOP_query_size: (G.GnttabQuerySize, gnttab_query_size),
}
_SINGLE = (G.GNTTABOP_setup_table, G.GNTTABOP_query_size)   # "if ( count != 1 ) return -EINVAL"


@hypercall("grant_table_op")
def do_grant_table_op(current, cmd: int, uop_list, count: int) -> int:
    """Run ``count`` ops of type ``cmd`` from ``uop_list``, filling each op's status; 0 or -errno."""
    from xenlab.xen.hypercall import is_int
    if is_int(count) and (count & 0xFFFFFFFF) > 512:
        return -E.EINVAL                          # 3.0.0's first test: `if ( count > 512 )` (unsigned count)
    if cmd not in _OPS:
        return -E.ENOSYS
    struct, fn = _OPS[cmd]
    if cmd in _SINGLE and count != 1:
        return -E.EINVAL
    if not isinstance(uop_list, (list, tuple)) or not isinstance(count, int) or not 0 <= count <= len(uop_list):
        return -E.EFAULT
    for op in uop_list[:count]:
        if not isinstance(op, struct):
            return -E.EFAULT                      # copy_from_guest of a bad pointer
        if cmd != G.GNTTABOP_copy and not _fields_fit(op):
            op.status = G.GNTST_general_error     # a field its C type cannot hold: nothing looked up
            if cmd == G.GNTTABOP_setup_table:
                op.frame_list = []
            continue
        fn(current, op)
    return 0


def _fields_fit(op) -> bool:
    """Every scalar field (but status) is a whole number, as a C field always is. Its *value* is the
    handlers' to judge, with the field's unsigned meaning (a negative ref or handle is a huge one:
    GNTST_bad_gntref / GNTST_bad_handle as in Xen)."""
    from xenlab.xen.hypercall import is_int
    for name, ctype, _ in op.LAYOUT.members:
        if name != "status" and isinstance(ctype, str) and ctype != "handle" and not is_int(getattr(op, name)):
            return False
    return True


# -- what backends use: a checked view of a mapped grant -----------------------------------------------------
class ForeignPage:
    """The mapping of a granted frame made by ``map_grant_ref``: the only way a backend touches a
    guest's page. Every access checks the handle is still mapped, stays inside the page, and writes
    only through a writable mapping."""

    def __init__(self, mapper, handle: int):
        self.mapper = mapper
        self.handle = handle

    def _entry(self) -> MaptrackEntry:
        gt = grant_table(self.mapper)
        m = gt.maptrack[self.handle] if 0 <= self.handle < MAPTRACK_MAX_ENTRIES else None
        if m is None:
            raise PermissionError(f"d{self.mapper.domain_id}: handle {self.handle} is not mapped")
        return m

    @property
    def frame(self) -> int:
        return self._entry().frame

    @property
    def maddr(self) -> int:
        return self._entry().frame << PAGE_SHIFT

    @property
    def writable(self) -> bool:
        return not self._entry().flags & G.GNTMAP_readonly

    def _range(self, offset: int, length: int) -> int:
        if offset < 0 or length < 0 or offset + length > PAGE_SIZE:
            raise PermissionError(f"access {offset}+{length} outside the granted page")
        return self.maddr + offset

    def read(self, offset: int, length: int) -> bytes:
        return self.mapper.machine.memory.read_bytes(self._range(offset, length), length)

    def write(self, offset: int, data: bytes) -> None:
        a = self._range(offset, len(data))
        if not self.writable:
            raise PermissionError(f"d{self.mapper.domain_id}: handle {self.handle} is mapped read-only")
        self.mapper.machine.memory.write_bytes(a, data)

    def __repr__(self) -> str:
        m = self._entry()
        return (f"<ForeignPage d{self.mapper.domain_id} handle {self.handle}: d{m.domid} ref {m.ref} "
                f"mfn {m.frame:#x} {'ro' if m.flags & G.GNTMAP_readonly else 'rw'}>")


def foreign_page(mapper, handle: int) -> ForeignPage:
    return ForeignPage(mapper, handle)


def gnttab_release_mappings(d) -> None:
    """Domain death: drop every mapping d still holds of other domains' grants."""
    gt = getattr(d, "grant_table", None)
    if gt is None:
        return
    for handle, m in enumerate(gt.maptrack):
        if m is not None:
            _unmap(d, handle, dying=True)


def dump_grant_table(d, refs=None) -> str:
    """The non-empty entries of d's shared table, with pins from the active table."""
    gt = grant_table(d)
    lines = [f"Grant table of domain {d.domain_id} ({d.name}): {NR_GRANT_ENTRIES} entries in frames "
             + ", ".join(f"{m:#x}" for m in gt.shared_mfns)]
    for ref in (range(NR_GRANT_ENTRIES) if refs is None else refs):
        e = read_entry(d, ref)
        if e.flags == 0 and e.domid == 0 and e.frame == 0:
            continue
        act = gt.active.get(ref)
        pins = "" if act is None else " pins " + " ".join(f"{k}={v}" for k, v in act.counts().items() if v)
        lines.append(f"  ref {ref:4d}: flags {e.flags:#06x} ({flag_names(e.flags)}) domid {e.domid} "
                     f"frame {e.frame:#x}{pins}")
    return "\n".join(lines)


def flag_names(flags: int) -> str:
    kind = flags & G.GTF_type_mask
    names = [{0: "invalid", 1: "permit_access", 2: "accept_transfer", 3: "transitive"}[kind]]
    if kind == G.GTF_accept_transfer:
        names += [n for b, n in ((G.GTF_transfer_committed, "committed"),
                                 (G.GTF_transfer_completed, "completed")) if flags & b]
    else:
        names += [n for b, n in ((G.GTF_readonly, "readonly"), (G.GTF_reading, "reading"),
                                 (G.GTF_writing, "writing")) if flags & b]
    return "|".join(names)

"""Validated page-table updates: mmu_update, mmuext_op, update_va_mapping.

Models X@RELEASE-3.0.0:xen/arch/x86/mm.c (do_mmu_update, do_mmuext_op, do_update_va_mapping,
mod_l1_entry, mod_l2_entry, mod_l3_entry, new_guest_cr3). A PV guest reads its page tables directly
but never writes them: it asks Xen, in batches, and Xen checks each new entry with the rules of
xen/mm_types.py (own frames only, no writable mapping of a page table, nothing in Xen's area)
before writing it. A batch stops at the first bad request with -EINVAL; ``pdone`` says how many
were done. Address-space layout: Xen above HYPERVISOR_VIRT_START (0xFC000000, PAE 0xF5800000); the
read-only M2P at its bottom (``machine_to_phys``).

TLBs are kept per vcpu: on x86 without PCIDs every context switch writes CR3, which drops all
non-global entries, and PV guests cannot create global ones (_PAGE_GLOBAL is disallowed), so a
per-pCPU TLB behaves exactly like one per vcpu that survives across its own runs.

Simplifications:
- ``foreigndom`` other than DOMID_SELF is accepted only from a privileged domain.
- A request list that is not a list of ``mmu_update_t`` / ``mmuext_op_t`` is -EFAULT (what a bad
  pointer gives); a ptr/val beyond uint64_t or an mmuext field beyond its unsigned 32-bit type stops
  the batch there with -EINVAL (see xen/hypercall.py).
- The *_MULTI / *_ALL flushes flush every vcpu of the caller; the vcpumask is not read.
- MMUEXT_REASSIGN_PAGE and MMUEXT_FLUSH_CACHE are accepted as no-ops for a privileged domain; from
  any other domain they fail with -EINVAL, like every other mmuext_op failure in 3.0.
- Xen's private slots of a guest L2 (from L2_PAGETABLE_FIRST_XEN_SLOT: the read-only M2P, the
  idle_pg_table entries for Xen's code and heap, the linear page-table self-map and the per-domain
  GDT/LDT area) are zeroed when the table is validated, not filled (see xen/mm_types.py). Guests
  cannot write those slots either way; Xen's data lives in Python objects (``machine.m2p``, the frame
  table, ``vcpu_mm``), so nothing in the model walks through them.
"""
from __future__ import annotations

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import _PAGE_PRESENT, _PAGE_RW
from xenlab.xen import descriptor as _descriptor  # noqa: F401  (registers set_gdt, update_descriptor)
from xenlab.xen.hypercall import hypercall, is_uint
from xenlab.xen.mm_types import (p2m_note, ENTRY_SIZE, HYPERVISOR_VIRT_START, L1_DISALLOW_MASK, L2_DISALLOW_MASK,
                                 L2_PAGETABLE_FIRST_XEN_SLOT, L3_DISALLOW_MASK, PGT_l1_page_table,
                                 PGT_l2_page_table, PGT_l3_page_table, PGT_pae_xen_l2, PGT_pinned,
                                 PGT_TYPE_KEY, PGT_writable_page, get_page, get_page_and_type,
                                 get_page_from_l1e, get_page_from_l2e, get_page_from_l3e, get_page_type,
                                 mm_log, pte_flags, pte_mfn, put_page, put_page_and_type, put_page_from_l1e,
                                 put_page_from_l2e, put_page_type, vcpu_mm)
from xenlab.xen.public import errno as E
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import mmu_update_t, mmuext_op_t  # noqa: F401  (re-exported)

ROOT_TYPE = {"2level": PGT_l2_page_table, "pae": PGT_l3_page_table}


def machine_to_phys(machine, mfn: int) -> int:
    """Read the M2P as a guest reads its read-only window at MACH2PHYS_VIRT_START."""
    return int(machine.m2p[mfn])


# -- one entry at a time -------------------------------------------------------------------------------
def _changed(old: int, new: int, mode: str, flags: int) -> bool:
    """l1e_has_changed: a different frame, or a difference in ``flags``."""
    return pte_mfn(old, mode) != pte_mfn(new, mode) or bool((old ^ new) & flags)


def mod_l1_entry(machine, pte_ma: int, new: int, d) -> bool:
    """Replace one L1 entry: reference the new target before releasing the old one."""
    mode, esize = machine.paging, ENTRY_SIZE[machine.paging]
    old = machine.memory.read(pte_ma, esize)
    if new & _PAGE_PRESENT:
        if pte_flags(new, mode) & L1_DISALLOW_MASK[mode]:
            mm_log(machine, f"Bad L1 flags {pte_flags(new, mode) & L1_DISALLOW_MASK[mode]:#x}")
            return False
        if old & _PAGE_PRESENT and not _changed(old, new, mode, _PAGE_PRESENT | _PAGE_RW):
            machine.memory.write(pte_ma, esize, new)          # same frame, same rights: no refs move
            return True
        if not get_page_from_l1e(machine, new, d):
            return False
    machine.memory.write(pte_ma, esize, new)
    put_page_from_l1e(machine, old)
    return True


def mod_l2_entry(machine, pte_ma: int, new: int, d, l2_type: int) -> bool:
    mode, esize = machine.paging, ENTRY_SIZE[machine.paging]
    slot = (pte_ma & 0xFFF) // esize
    if (mode == "2level" or l2_type & PGT_pae_xen_l2) and slot >= L2_PAGETABLE_FIRST_XEN_SLOT[mode]:
        mm_log(machine, f"Illegal L2 update attempt in Xen-private area (slot {slot})")
        return False
    old = machine.memory.read(pte_ma, esize)
    if new & _PAGE_PRESENT:
        if pte_flags(new, mode) & L2_DISALLOW_MASK[mode]:
            mm_log(machine, f"Bad L2 flags {pte_flags(new, mode) & L2_DISALLOW_MASK[mode]:#x} (no superpages)")
            return False
        if old & _PAGE_PRESENT and not _changed(old, new, mode, _PAGE_PRESENT):
            machine.memory.write(pte_ma, esize, new)
            return True
        if not get_page_from_l2e(machine, new, d):
            return False
    machine.memory.write(pte_ma, esize, new)
    put_page_from_l2e(machine, old)
    return True


def mod_l3_entry(machine, pte_ma: int, new: int, d) -> bool:
    slot = (pte_ma & 0xFFF) // 8
    if slot >= 4:
        mm_log(machine, f"L3 slot {slot} does not exist (a PAE PDPT has 4 entries)")
        return False
    old = machine.memory.read_u64(pte_ma)
    if slot == 3:
        # X@RELEASE-3.0.0:xen/arch/x86/mm.c:1181-1187: "Disallow updates to final L3 slot. It contains
        # Xen mappings, and it would be a pain to ensure they remain continuously valid throughout."
        mm_log(machine, "L3 slot 3 cannot be updated in a validated L3: its L2 holds Xen's mappings")
        return False
    if new & _PAGE_PRESENT:
        if pte_flags(new, "pae") & L3_DISALLOW_MASK:
            mm_log(machine, f"Bad L3 flags {pte_flags(new, 'pae') & L3_DISALLOW_MASK:#x}")
            return False
        if old & _PAGE_PRESENT and not _changed(old, new, "pae", _PAGE_PRESENT):
            machine.memory.write_u64(pte_ma, new)
            return True
        if not get_page_from_l3e(machine, new, d, slot):
            return False
    machine.memory.write_u64(pte_ma, new)
    put_page_from_l2e(machine, old)
    return True


def _normal_update(machine, d, pg_owner, ptr: int, val: int) -> bool:
    """MMU_NORMAL_PT_UPDATE: the frame holding the entry decides how the write is checked."""
    mode, ft = machine.paging, machine.frame_table
    ma, mfn = ptr & ~(ENTRY_SIZE[mode] - 1), ptr >> PAGE_SHIFT
    if not 0 <= val < 1 << (8 * ENTRY_SIZE[mode]):
        mm_log(machine, f"value {val:#x} does not fit a {8 * ENTRY_SIZE[mode]}-bit entry")
        return False
    if not get_page(machine, mfn, d):
        return False
    t = int(ft.type_info[mfn]) & PGT_TYPE_KEY
    ok = False
    if t in (PGT_l1_page_table, PGT_l2_page_table, PGT_l2_page_table | PGT_pae_xen_l2) or \
            (t == PGT_l3_page_table and mode == "pae"):
        if get_page_type(machine, mfn, t):
            if t == PGT_l1_page_table:
                ok = mod_l1_entry(machine, ma, val, pg_owner)
            elif t == PGT_l3_page_table:
                ok = mod_l3_entry(machine, ma, val, d)
            else:
                ok = mod_l2_entry(machine, ma, val, d, t)
            put_page_type(machine, mfn)
    elif get_page_type(machine, mfn, PGT_writable_page):   # not a page table: a plain write
        machine.memory.write(ma, ENTRY_SIZE[mode], val)
        put_page_type(machine, mfn)
        ok = True
    put_page(machine, mfn)
    return ok


def _pg_owner(current, foreigndom: int):
    d = current.domain
    if foreigndom == X.DOMID_SELF:
        return d
    if not d.is_privileged or foreigndom == d.domain_id:
        mm_log(d.machine, f"Dom {d.domain_id} cannot set foreign dom {foreigndom}")
        return None
    return d.machine.domains.get(foreigndom)


@hypercall("mmu_update")
def do_mmu_update(current, reqs, count: int | None = None, pdone: list | None = None,
                  foreigndom: int = X.DOMID_SELF) -> int:
    """Apply ``count`` ``mmu_update_t`` requests in order; stop at the first bad one (-EINVAL).
    ``pdone`` (a one-element list, the C ``int *pdone``) receives the number done."""
    d = current.domain
    machine = d.machine
    if not isinstance(reqs, (list, tuple)) or (pdone is not None and not isinstance(pdone, list)):
        return -E.EFAULT                          # copy_from_guest / copy_to_guest of a bad pointer
    count = len(reqs) if count is None else count
    if not 0 <= count <= len(reqs):
        return -E.EFAULT
    if not all(isinstance(r, mmu_update_t) for r in reqs[:count]):
        return -E.EFAULT
    pg_owner = _pg_owner(current, foreigndom)
    rc, done = 0, 0
    if pg_owner is None:
        rc = -E.EINVAL
    esize = ENTRY_SIZE[machine.paging]
    ft, nr_frames, domid = machine.frame_table, machine.frame_table.nr_frames, d.domain_id
    view = machine.memory.data.view("<u4" if esize == 4 else "<u8")
    for req in reqs[:count] if pg_owner is not None else ():
        if not (is_uint(req.ptr, 64) and is_uint(req.val, 64)):
            mm_log(machine, f"mmu_update: ptr/val {req.ptr!r}/{req.val!r} do not fit uint64_t")
            rc = -E.EINVAL
            break
        ptr, val = int(req.ptr), int(req.val)
        cmd = ptr & (esize - 1)
        mfn = ptr >> PAGE_SHIFT
        if cmd == X.MMU_NORMAL_PT_UPDATE and 0 <= mfn < nr_frames and ft.owner[mfn] == domid \
                and ft.type_info[mfn] & PGT_TYPE_KEY == PGT_writable_page and 0 <= val < 1 << (8 * esize):
            view[ptr // esize] = val        # fast path: an ordinary page already typed writable;
            ok = True                       # the slow path would take and drop the same refs
        elif cmd == X.MMU_NORMAL_PT_UPDATE:
            ok = _normal_update(machine, d, pg_owner, ptr, val)
        elif cmd == X.MMU_MACHPHYS_UPDATE:
            mfn = ptr >> PAGE_SHIFT
            ok = get_page(machine, mfn, pg_owner)
            if ok:
                machine.m2p[mfn] = val & 0xFFFFFFFF        # set_gpfn_from_mfn
                p2m_note(pg_owner, val & 0xFFFFFFFF, mfn)
                put_page(machine, mfn)
        else:
            mm_log(machine, f"Invalid page update command {cmd:#x}")
            ok = False
        if not ok:
            rc = -E.EINVAL
            break
        done += 1
    if pdone is not None:
        pdone[:1] = [done]
    if machine.trace.active:
        machine.trace.emit("MEM", "mmu_update", domid=d.domain_id, vcpu=current.vcpu_id, count=count,
                           done=done, rc=rc)
    return rc


# -- mmuext_op -------------------------------------------------------------------------------------------
def new_guest_cr3(v, mfn: int) -> bool:
    """Switch vcpu ``v`` to the root table ``mfn``: a root-type reference, then drop the old one."""
    d, machine = v.domain, v.domain.machine
    if not get_page_and_type(machine, mfn, d, ROOT_TYPE[machine.paging]):
        mm_log(machine, f"Error while installing new baseptr {mfn:#x}. " + getattr(machine, "mm_last_error", ""))
        return False
    mm = vcpu_mm(v)
    old, mm.guest_table = mm.guest_table, mfn
    v.cr3 = mfn << PAGE_SHIFT
    if v.is_running:
        machine.cpus[v.processor].cr3 = v.cr3
    mm.tlb.flush()                                   # writing CR3 drops non-global entries
    if old:
        put_page_and_type(machine, old)
    machine.trace.emit("MEM", "new_baseptr", domid=d.domain_id, vcpu=v.vcpu_id, mfn=mfn)
    return True


_PIN_TYPES = {X.MMUEXT_PIN_L1_TABLE: PGT_l1_page_table, X.MMUEXT_PIN_L2_TABLE: PGT_l2_page_table,
              X.MMUEXT_PIN_L3_TABLE: PGT_l3_page_table}


def _mmuext_one(current, op, pg_owner) -> int:
    d, machine = current.domain, current.domain.machine
    ft, mode = machine.frame_table, machine.paging
    # Every field is an unsigned int / unsigned long (xen_pfn_t) on x86_32: a value the field cannot
    # hold (a negative SET_LDT base, a 2**40 mfn) is refused like any bad argument (3.0: -EINVAL).
    if not all(is_uint(x, 32) for x in (op.cmd, op.mfn, op.linear_addr, op.nr_ents, op.vcpumask)):
        mm_log(machine, f"mmuext_op: a field does not fit its C type: {op!r}")
        return -E.EINVAL
    cmd = op.cmd
    if cmd in _PIN_TYPES or cmd == X.MMUEXT_PIN_L4_TABLE:
        t = _PIN_TYPES.get(cmd)
        if t is None or (t == PGT_l3_page_table and mode != "pae") or (t == PGT_l2_page_table and mode == "pae"):
            mm_log(machine, "pin type not available in this paging mode (PIN_L2 is refused on PAE)")
            return -E.EINVAL
        if not get_page_and_type(machine, op.mfn, pg_owner, t):
            return -E.EINVAL
        if int(ft.type_info[op.mfn]) & PGT_pinned:
            mm_log(machine, f"mfn {op.mfn:#x} already pinned")
            put_page_and_type(machine, op.mfn)
            return -E.EINVAL
        ft.type_info[op.mfn] |= PGT_pinned
        return 0
    if cmd == X.MMUEXT_UNPIN_TABLE:
        if not get_page(machine, op.mfn, pg_owner):
            return -E.EINVAL
        pinned = bool(int(ft.type_info[op.mfn]) & PGT_pinned)
        if pinned:
            ft.type_info[op.mfn] = int(ft.type_info[op.mfn]) & ~PGT_pinned
            put_page_and_type(machine, op.mfn)
        put_page(machine, op.mfn)
        if not pinned:
            mm_log(machine, f"mfn {op.mfn:#x} not pinned")
            return -E.EINVAL
        return 0
    if cmd == X.MMUEXT_NEW_BASEPTR:
        return 0 if new_guest_cr3(current, op.mfn) else -E.EINVAL
    if cmd in (X.MMUEXT_TLB_FLUSH_LOCAL, X.MMUEXT_TLB_FLUSH_MULTI, X.MMUEXT_TLB_FLUSH_ALL):
        for v in ([current] if cmd == X.MMUEXT_TLB_FLUSH_LOCAL else d.vcpus):
            vcpu_mm(v).tlb.flush()
        return 0
    if cmd in (X.MMUEXT_INVLPG_LOCAL, X.MMUEXT_INVLPG_MULTI, X.MMUEXT_INVLPG_ALL):
        for v in ([current] if cmd == X.MMUEXT_INVLPG_LOCAL else d.vcpus):
            vcpu_mm(v).tlb.invlpg(op.linear_addr)
        return 0
    if cmd == X.MMUEXT_SET_LDT:
        base, ents = op.linear_addr, op.nr_ents
        if base & 0xFFF or ents > 8192 or base + ents * 8 > HYPERVISOR_VIRT_START[mode]:
            mm_log(machine, f"Bad args to SET_LDT: ptr={base:#x}, ents={ents}")
            return -E.EINVAL
        mm = vcpu_mm(current)
        mm.ldt_base, mm.ldt_ents = base, ents
        return 0
    if cmd in (X.MMUEXT_FLUSH_CACHE, X.MMUEXT_REASSIGN_PAGE):
        if d.is_privileged:
            return 0
        mm_log(machine, f"Dom {d.domain_id} has no privilege for mmuext command {cmd}")
        return -E.EINVAL                      # 3.0: okay = 0, and every failure is -EINVAL
    mm_log(machine, f"Invalid extended pt command {cmd:#x}")
    return -E.EINVAL                          # 3.0's default: okay = 0 (not -ENOSYS)


@hypercall("mmuext_op")
def do_mmuext_op(current, ops, count: int | None = None, pdone: list | None = None,
                 foreigndom: int = X.DOMID_SELF) -> int:
    """Apply ``count`` ``mmuext_op_t`` operations in order, stopping at the first failure."""
    d = current.domain
    if not isinstance(ops, (list, tuple)) or (pdone is not None and not isinstance(pdone, list)):
        return -E.EFAULT
    count = len(ops) if count is None else count
    if not 0 <= count <= len(ops):
        return -E.EFAULT
    if not all(isinstance(o, mmuext_op_t) for o in ops[:count]):
        return -E.EFAULT
    pg_owner = _pg_owner(current, foreigndom)
    rc, done = (0, 0) if pg_owner is not None else (-E.EINVAL, 0)
    for op in ops[:count] if pg_owner is not None else ():
        rc = _mmuext_one(current, op, pg_owner)
        if rc:
            break
        done += 1
    if pdone is not None:
        pdone[:1] = [done]
    if d.machine.trace.active:
        d.machine.trace.emit("MEM", "mmuext_op", domid=d.domain_id, vcpu=current.vcpu_id,
                             cmds=[o.cmd for o in ops[:count]], done=done, rc=rc)
    return rc


# -- update_va_mapping -------------------------------------------------------------------------------------
def guest_l1e_maddr(machine, root_mfn: int, va: int) -> int | None:
    """Where the L1 entry for ``va`` lives, following the guest's tables (Xen's linear_pg_table)."""
    mode = machine.paging
    mem = machine.memory
    if mode == "2level":
        pde = mem.read_u32((root_mfn << PAGE_SHIFT) + (va >> 22) * 4)
        return None if not pde & _PAGE_PRESENT else (pde & 0xFFFFF000) + ((va >> 12) & 0x3FF) * 4
    l3e = mem.read_u64((root_mfn << PAGE_SHIFT) + (va >> 30) * 8)
    if not l3e & _PAGE_PRESENT:
        return None
    l2e = mem.read_u64((pte_mfn(l3e, mode) << PAGE_SHIFT) + ((va >> 21) & 511) * 8)
    return None if not l2e & _PAGE_PRESENT else (pte_mfn(l2e, mode) << PAGE_SHIFT) + ((va >> 12) & 511) * 8


@hypercall("update_va_mapping", wide=("val",))
def do_update_va_mapping(current, va: int, val: int, flags: int = X.UVMF_NONE) -> int:
    """Validate and write the L1 entry that maps ``va`` in the current address space, then flush."""
    d, machine = current.domain, current.domain.machine
    mm = vcpu_mm(current)
    if not 0 <= va < HYPERVISOR_VIRT_START[machine.paging] or not mm.guest_table:
        mm_log(machine, f"update_va_mapping: va {va:#x} is in Xen's area or there is no page table")
        return -E.EINVAL
    pte_ma = guest_l1e_maddr(machine, mm.guest_table, va)
    if pte_ma is None or not 0 <= val < 1 << (8 * ENTRY_SIZE[machine.paging]):
        mm_log(machine, f"update_va_mapping: no L1 table maps va {va:#x}")
        return -E.EINVAL
    if not mod_l1_entry(machine, pte_ma, val, d):
        return -E.EINVAL
    targets = d.vcpus if flags & X.UVMF_ALL else [current]
    for v in targets:
        if flags & X.UVMF_FLUSHTYPE_MASK == X.UVMF_TLB_FLUSH:
            vcpu_mm(v).tlb.flush()
        elif flags & X.UVMF_FLUSHTYPE_MASK == X.UVMF_INVLPG:
            vcpu_mm(v).tlb.invlpg(va)
    if machine.trace.active:
        machine.trace.emit("MEM", "update_va_mapping", domid=d.domain_id, vcpu=current.vcpu_id, va=va, val=val,
                           flags=flags)
    return 0


from xenlab.xen import memory as _memory  # noqa: E402,F401  (registers memory_op)

"""Shadow page tables for hardware-assisted (HVM) guests: who writes the page tables the CPU uses.

Models the idea of X@RELEASE-3.0.0:xen/arch/x86/shadow32.c (shadow_fault, shadow_invlpg,
shadow_update_cr3 / vmx_set_cr3) as used for VMX guests. An unmodified kernel does not know Xen
exists: it writes its own page tables with ordinary stores into its own memory, and its entries hold
*guest-physical* frame numbers (gfn). The CPU cannot use those tables (a gfn is not a machine frame),
so Xen keeps **shadow** tables, guest-virtual -> machine, in frames of its own, and the real CR3
points at them. Shadows are built lazily:

- a CR3 write exits (CR_ACCESS); Xen finds or makes the shadow of the new root;
- a page fault in the shadow exits (EXCEPTION_NMI, vector 14); Xen walks the guest's tables
  (translating each gfn through the P2M that Xen keeps for an HVM guest) and then either
  **fills** the missing shadow entries and resumes the guest (a fault the guest never sees),
  **emulates** the store if it was a write to one of the guest's page-table pages (those are
  write-protected in the shadow, so Xen sees every change), or **injects** the #PF into the guest
  when the guest's own tables do not allow the access;
- INVLPG exits; Xen drops the shadow entry of that page.

So on HVM every page-table write costs a VM exit, while a PV guest writes nothing itself: it asks
Xen with one validated ``mmu_update`` for up to 2048 entries (xen/mm.py), and its tables are the real
ones (the CPU's CR3 points at the guest's own root, whose frames Xen typed and pinned).

Simplifications:
- The guest uses the machine's paging mode (2-level guests on 2-level Xen, PAE on PAE); no
  4 MiB/2 MiB guest pages; the guest's CR3 holds a page-aligned guest-physical address.
- No TLB for the shadowed guest: every access walks the shadow (the exits are what we count).
- A shadow entry is dropped (not recomputed) when Xen emulates a write to the guest entry it came
  from; the next access refills it. Xen 3.0 also had an "out-of-sync" mode that let the guest write
  L1 pages directly and resynchronised them later (fewer exits); shadows are never freed until the
  domain dies.
- Guest accessed/dirty bits: Xen sets A when it fills an entry and D on a write; a clean page is
  shadowed read-only so that its first write faults and sets D, as the real shadow code does.
- Nested paging (AMD NPT, Intel EPT, later hardware) is described in the notebook, not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.paging import (_PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER,
                              ENTRY_SIZE, PFEC_page_present, PFEC_user_mode, PFEC_write_access, PageFault,
                              check_mode, walk)
from xenlab.xen.hvm import EXIT_REASON_CR_ACCESS, EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_INVLPG, vmexit
from xenlab.xen.public.xen import DOMID_XEN

FILL, EMULATE, INJECT = "fill", "emulate", "inject"
_ADDR = {"2level": 0xFFFFF000, "pae": ((1 << 36) - 1) & ~0xFFF}


@dataclass
class ShadowPT:
    """Per-domain shadow state: shadow table of each guest table gfn, and what the exits did."""
    mode: str
    shadow_of: dict = field(default_factory=dict)      # (guest table gfn, level index) -> shadow mfn
    counts: dict = field(default_factory=lambda: {"cr3": 0, FILL: 0, EMULATE: 0, INJECT: 0, "invlpg": 0})

    @property
    def table_gfns(self) -> set:
        """Guest frames Xen knows are page tables (write-protected in every shadow)."""
        return {g for g, _ in self.shadow_of}

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        return f"<ShadowPT {self.mode} {len(self.shadow_of)} shadow tables; exits: {c}>"


def shadow_pt(d) -> ShadowPT:
    """The domain's shadow state, created on first use (an HVM domain only)."""
    s = getattr(d, "shadow_pt", None)
    if s is None:
        if d.kind != "hvm":
            raise ValueError(f"d{d.domain_id} is paravirtualised: its own page tables are the real ones")
        s = d.shadow_pt = ShadowPT(d.machine.paging)
        hooks = d.machine.on_domain_destroy
        if shadow_teardown not in hooks:
            hooks.append(shadow_teardown)
    return s


def shadow_teardown(d) -> None:
    """Give the shadow frames back to Xen's heap when the domain dies."""
    s = getattr(d, "shadow_pt", None)
    if s is not None and s.shadow_of:
        d.machine.frame_table.free(sorted(s.shadow_of.values()), d.machine.memory)
        s.shadow_of.clear()


# -- reading the guest's tables (guest-physical) ------------------------------------------------------
def gpa_to_maddr(d, gpa: int) -> int:
    """Guest-physical -> machine through the P2M Xen keeps for an HVM guest."""
    gfn = gpa >> PAGE_SHIFT
    if not 0 <= gfn < len(d.p2m):
        raise ValueError(f"guest-physical address {gpa:#x} is outside d{d.domain_id}'s memory")
    return (d.p2m[gfn] << PAGE_SHIFT) | (gpa & 0xFFF)


def guest_walk(d, guest_cr3: int, va: int) -> list[tuple[int, int, int]]:
    """The guest's own tables for ``va``: ``[(table gfn, index, entry), ...]`` top first, stopping at
    the first not-present entry. Entries hold gfns (guest-physical frame numbers)."""
    mode = d.machine.paging
    levels, esize = check_mode(mode), ENTRY_SIZE[mode]
    gfn, out = guest_cr3 >> PAGE_SHIFT, []
    for lv in levels:
        index = (va >> lv.shift) & (lv.entries - 1)
        e = d.machine.memory.read(gpa_to_maddr(d, (gfn << PAGE_SHIFT) + index * esize), esize)
        out.append((gfn, index, e))
        if not e & _PAGE_PRESENT:
            break
        if lv.large_mask and e & _PAGE_PSE:
            raise ValueError("large guest pages are not modelled (shadow_pt Simplifications)")
        gfn = (e & _ADDR[mode]) >> PAGE_SHIFT
    return out


def _guest_allows(mode: str, steps, write: bool, user: bool) -> bool:
    levels = check_mode(mode)
    if len(steps) < len(levels) or not steps[-1][2] & _PAGE_PRESENT:
        return False
    for lv, (_, _, e) in zip(levels, steps):
        if lv.rights and ((write and not e & _PAGE_RW) or (user and not e & _PAGE_USER)):
            return False
    return True


# -- the shadow tables (machine frames owned by Xen) ----------------------------------------------------
def _shadow_table(d, s: ShadowPT, gfn: int, depth: int) -> int:
    key = (gfn, depth)
    mfn = s.shadow_of.get(key)
    if mfn is None:
        machine = d.machine
        mfn = machine.frame_table.alloc(DOMID_XEN, 1)[0]
        machine.memory.clear_frame(mfn)
        s.shadow_of[key] = mfn
        _write_protect(d, s, gfn)
        if machine.trace.active:
            machine.trace.emit("MEM", "shadow_alloc", domid=d.domain_id, gfn=gfn, level=depth, mfn=mfn)
    return mfn


def _leaf_tables(s: ShadowPT):
    last = len(check_mode(s.mode)) - 1
    return [m for (g, depth), m in s.shadow_of.items() if depth == last]


def _write_protect(d, s: ShadowPT, gfn: int) -> None:
    """A guest frame became a page table: no shadow may map it writable any more."""
    mode, mem = s.mode, d.machine.memory
    esize, target = ENTRY_SIZE[mode], d.p2m[gfn]
    for smfn in _leaf_tables(s):
        for i in range(4096 // esize):
            ea = (smfn << PAGE_SHIFT) + i * esize
            e = mem.read(ea, esize)
            if e & _PAGE_PRESENT and e & _PAGE_RW and (e & _ADDR[mode]) >> PAGE_SHIFT == target:
                mem.write(ea, esize, e & ~_PAGE_RW)


def _fill(d, s: ShadowPT, steps, write: bool) -> None:
    """Propagate the guest's entries for one address into the shadow (shadow_fault's fix-up)."""
    mode, mem = s.mode, d.machine.memory
    levels, esize = check_mode(mode), ENTRY_SIZE[mode]
    last = len(levels) - 1
    for depth, (gfn, index, e) in enumerate(steps):
        # The guest's A (and, for a write, D) bits: Xen sets them in the guest's own entry.
        new = e | (_PAGE_ACCESSED if levels[depth].rights else 0)
        if depth == last and write:
            new |= _PAGE_DIRTY
        if new != e:
            mem.write(gpa_to_maddr(d, (gfn << PAGE_SHIFT) + index * esize), esize, new)
        sh = (_shadow_table(d, s, gfn, depth) << PAGE_SHIFT) + index * esize
        child = (new & _ADDR[mode]) >> PAGE_SHIFT
        if depth < last:
            mem.write(sh, esize, (_shadow_table(d, s, child, depth + 1) << PAGE_SHIFT) | (new & 0xFFF))
        else:
            flags = new & 0xFFF
            if child in s.table_gfns or not new & _PAGE_DIRTY:
                flags &= ~_PAGE_RW                      # page tables and clean pages: read-only shadow
            mem.write(sh, esize, (d.p2m[child] << PAGE_SHIFT) | flags | (new & (1 << 63)))


def sh_update_cr3(v, guest_cr3: int) -> int:
    """The guest wrote CR3 (a VM exit): point the real CR3 at the shadow of its new root."""
    d = v.domain
    s = shadow_pt(d)
    if guest_cr3 % 4096 or not 0 <= guest_cr3 >> PAGE_SHIFT < len(d.p2m):
        raise ValueError(f"guest CR3 {guest_cr3:#x} must be a page-aligned guest-physical address")
    vmexit(v, EXIT_REASON_CR_ACCESS, cr=3, value=guest_cr3)
    s.counts["cr3"] += 1
    d.hvm.guest_cr3[v.vcpu_id] = guest_cr3
    v.cr3 = _shadow_table(d, s, guest_cr3 >> PAGE_SHIFT, 0) << PAGE_SHIFT
    if v.is_running:
        d.machine.cpus[v.processor].cr3 = v.cr3
    return v.cr3


def sh_page_fault(v, va: int, error_code: int) -> str:
    """A #PF in the shadow made the CPU exit. Returns FILL (fixed, retry), EMULATE (the caller's store
    hits a guest page table: Xen performs it) or INJECT (the guest's own tables refuse the access)."""
    d = v.domain
    s = shadow_pt(d)
    write, user = bool(error_code & PFEC_write_access), bool(error_code & PFEC_user_mode)
    steps = guest_walk(d, d.hvm.guest_cr3[v.vcpu_id], va)
    if not _guest_allows(s.mode, steps, write, user):
        outcome = INJECT
    else:
        target = (steps[-1][2] & _ADDR[s.mode]) >> PAGE_SHIFT
        outcome = EMULATE if write and target in s.table_gfns else FILL
    vmexit(v, EXIT_REASON_EXCEPTION_NMI, vector=14, error_code=error_code, cr2=va, shadow=outcome)
    s.counts[outcome] += 1
    if outcome == FILL:
        _fill(d, s, steps, write)
    elif outcome == INJECT:
        guest_error = error_code & ~PFEC_page_present
        if len(steps) == len(check_mode(s.mode)) and steps[-1][2] & _PAGE_PRESENT:
            guest_error |= PFEC_page_present          # present in the guest's tables: a protection fault
        v.hvm_cr2 = va
        if d.machine.trace.active:
            d.machine.trace.emit("HVM", "inject", domid=d.domain_id, vcpu=v.vcpu_id, pcpu=v.processor,
                                 vector=14, error_code=guest_error)
    return outcome


def emulate_pt_write(v, va: int, value: int, size: int) -> int:
    """x86_emulate of a store to a write-protected guest page table: write the guest's entry, then
    drop the shadow entry made from it. Returns the machine address written."""
    d = v.domain
    s = shadow_pt(d)
    steps = guest_walk(d, d.hvm.guest_cr3[v.vcpu_id], va)
    gfn = (steps[-1][2] & _ADDR[s.mode]) >> PAGE_SHIFT
    gpa = (gfn << PAGE_SHIFT) | (va & 0xFFF)
    maddr = gpa_to_maddr(d, gpa)
    d.machine.memory.write(maddr, size, value)
    esize = ENTRY_SIZE[s.mode]
    index = (va & 0xFFF) // esize
    for (g, depth), smfn in s.shadow_of.items():
        if g == gfn:
            d.machine.memory.write((smfn << PAGE_SHIFT) + index * esize, esize, 0)
    if d.machine.trace.active:
        d.machine.trace.emit("MEM", "shadow_emulate", domid=d.domain_id, gfn=gfn, index=index, val=value)
    return maddr


def sh_invlpg(v, va: int) -> None:
    """The guest ran INVLPG (a VM exit): drop the shadow's leaf entry for ``va``."""
    d = v.domain
    s = shadow_pt(d)
    vmexit(v, EXIT_REASON_INVLPG, va=va)
    s.counts["invlpg"] += 1
    steps = guest_walk(d, d.hvm.guest_cr3[v.vcpu_id], va)
    last = len(check_mode(s.mode)) - 1
    if len(steps) == last + 1:
        gfn, index, _ = steps[-1]
        smfn = s.shadow_of.get((gfn, last))
        if smfn is not None:
            d.machine.memory.write((smfn << PAGE_SHIFT) + index * ENTRY_SIZE[s.mode], ENTRY_SIZE[s.mode], 0)


def hvm_access(v, va: int, access: str = "r", value: int | None = None, size: int = 4, user: bool = False):
    """One memory access by the HVM guest through the real MMU (the shadow). Returns
    ``(outcome, maddr)``: outcome "native" (no exit needed), "filled" (after hidden faults),
    "emulated" (a page-table write Xen did), or "fault" (#PF injected into the guest; maddr None)."""
    d = v.domain
    filled = False
    for _ in range(8):
        try:
            maddr = walk(d.machine.memory, v.cr3, va, access, d.machine.paging, user=user, set_ad=False)[0]
        except PageFault as pf:
            outcome = sh_page_fault(v, va, pf.error_code)
            if outcome == INJECT:
                return "fault", None
            if outcome == EMULATE:
                return "emulated", emulate_pt_write(v, va, value or 0, size)
            filled = True
            continue
        if access == "w" and value is not None:
            d.machine.memory.write(maddr, size, value)
        return ("filled" if filled else "native"), maddr
    raise AssertionError(f"shadow fault loop at {va:#x}")


def shadow_dump(d) -> str:
    """Which guest tables are shadowed, by which Xen frames."""
    s = shadow_pt(d)
    rows = [f"guest gfn {g:#7x} (level {depth}) -> shadow mfn {m:#x}" for (g, depth), m in sorted(s.shadow_of.items())]
    return "\n".join([repr(s)] + rows)


__all__ = ["ShadowPT", "shadow_pt", "sh_update_cr3", "sh_page_fault", "sh_invlpg", "emulate_pt_write",
           "hvm_access", "guest_walk", "gpa_to_maddr", "shadow_dump", "FILL", "EMULATE", "INJECT"]

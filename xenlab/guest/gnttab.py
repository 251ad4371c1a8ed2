"""The guest's side of grant tables (linux-2.6-xen-sparse/drivers/xen/core/gnttab.c, Xen 3.0).

At boot the kernel asks Xen for its shared table frames (``GNTTABOP_setup_table``) and from then on
grants by *writing entries* in them, no hypercall needed: to publish an entry it writes ``domid``
and ``frame`` first and ``flags`` last (the wmb() in between is a no-op here). To revoke an entry it
checks that Xen has not marked it GTF_reading/GTF_writing (a backend still has it mapped).

Simplifications:
- Refs are handed out lowest first from GNTTAB_NR_RESERVED_ENTRIES (8) up; no callbacks when the
  table runs out (``grant_*`` raise, a driver bug in the model).
- The guest writes its entries through machine memory at the table's frames, which it "mapped"
  with the frame list setup_table returned.
"""
from __future__ import annotations

from xenlab.hw.memory import PAGE_SHIFT
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.xen import DOMID_SELF


class GrantTableFull(RuntimeError):
    pass


class GuestGrants:
    """One kernel's view of its grant table: frames, free refs, grant/end helpers."""

    def __init__(self, kernel):
        self.kernel = kernel
        d = kernel.d
        op = G.GnttabSetupTable(dom=DOMID_SELF, nr_frames=G.NR_GRANT_FRAMES)
        rc = kernel.hypercall(d.vcpus[0], "grant_table_op", G.GNTTABOP_setup_table, [op], 1)
        if rc != 0 or op.status != G.GNTST_okay:
            raise RuntimeError(f"d{d.domain_id}: GNTTABOP_setup_table failed: rc={rc} status={op.status}")
        self.frames = list(op.frame_list)
        self.free_refs = list(range(G.NR_GRANT_ENTRIES - 1, G.GNTTAB_NR_RESERVED_ENTRIES - 1, -1))

    @property
    def memory(self):
        return self.kernel.d.machine.memory

    def _addr(self, ref: int) -> int:
        per = 4096 // G.GRANT_ENTRY_SIZE
        return (self.frames[ref // per] << PAGE_SHIFT) + (ref % per) * G.GRANT_ENTRY_SIZE

    def entry(self, ref: int) -> G.GrantEntryV1:
        a = self._addr(ref)
        m = self.memory
        return G.GrantEntryV1(m.read_u16(a), m.read_u16(a + 2), m.read_u32(a + 4))

    def _claim(self) -> int:
        if not self.free_refs:
            raise GrantTableFull(f"d{self.kernel.d.domain_id}: no free grant references")
        return self.free_refs.pop()

    def _publish(self, ref: int, domid: int, frame: int, flags: int) -> None:
        a = self._addr(ref)
        self.memory.write_u16(a + 2, domid)
        self.memory.write_u32(a + 4, frame)
        self.memory.write_u16(a, flags)          # flags last: the entry becomes valid now

    def grant_foreign_access(self, domid: int, mfn: int, readonly: bool = False) -> int:
        """gnttab_grant_foreign_access: let ``domid`` map frame ``mfn``; returns the ref."""
        ref = self._claim()
        self._publish(ref, domid, mfn, G.GTF_permit_access | (G.GTF_readonly if readonly else 0))
        return ref

    def query_foreign_access(self, ref: int) -> bool:
        """True while the grantee has the entry mapped (GTF_reading or GTF_writing set by Xen)."""
        return bool(self.entry(ref).flags & (G.GTF_reading | G.GTF_writing))

    def end_foreign_access_ref(self, ref: int) -> bool:
        """Revoke an unused entry: refuse (False) while Xen says it is in use."""
        a = self._addr(ref)
        flags = self.memory.read_u16(a)
        if flags & (G.GTF_reading | G.GTF_writing):
            return False
        self.memory.write_u16(a, 0)              # cmpxchg(flags -> 0)
        return True

    def end_foreign_access(self, ref: int) -> bool:
        """Revoke and give the ref back for reuse; False (and the ref stays taken) while in use."""
        if not self.end_foreign_access_ref(ref):
            return False
        self.free_refs.append(ref)
        return True

    def grant_foreign_transfer(self, domid: int, pfn: int) -> int:
        """gnttab_grant_foreign_transfer: accept a page flipped to us by ``domid`` into ``pfn``."""
        ref = self._claim()
        self._publish(ref, domid, pfn, G.GTF_accept_transfer)
        return ref

    def end_foreign_transfer_ref(self, ref: int) -> int:
        """The MFN Xen wrote when the transfer completed, or 0 if none came (entry revoked)."""
        a = self._addr(ref)
        flags = self.memory.read_u16(a)
        if not flags & G.GTF_transfer_committed:
            self.memory.write_u16(a, 0)          # nothing in flight: just revoke
            return 0
        if not flags & G.GTF_transfer_completed:
            return 0                             # Xen is mid-transfer (never seen in the model)
        frame = self.memory.read_u32(a + 4)
        self.memory.write_u16(a, 0)
        return frame

    def end_foreign_transfer(self, ref: int) -> int:
        mfn = self.end_foreign_transfer_ref(ref)
        self.free_refs.append(ref)
        return mfn

    def in_use(self) -> int:
        return G.NR_GRANT_ENTRIES - G.GNTTAB_NR_RESERVED_ENTRIES - len(self.free_refs)

    def __repr__(self) -> str:
        return f"<GuestGrants d{self.kernel.d.domain_id} {self.in_use()} refs in use, frames {self.frames}>"


def guest_grants(kernel) -> GuestGrants:
    """The kernel's grant table, set up on first use (gnttab_init)."""
    g = getattr(kernel, "grants", None)
    if g is None:
        g = kernel.grants = GuestGrants(kernel)
    return g

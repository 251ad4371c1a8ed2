"""Exercise 10b's input: one GNTTABOP_map_grant_ref call as plain data, and a lab that makes the same
call for real on a machine so Xen's answer (xenlab/xen/gnttab.py) can be set next to a student's.

``MapCase`` holds what Xen looks at, in the names of grant_table.h: the op's ``ref, flags, dom``, the
``caller``, which domains exist, how many maptrack entries the caller has free, the granting
domain's shared entry ``sha_flags, sha_domid, sha_frame`` and who owns ``sha_frame``.
``GrantLab`` owns a machine with dom0 and two guests; ``GrantLab.xen(spec)`` writes the entry, sets the
caller's maptrack, makes the hypercall from the caller, reads back status and flags, and undoes it.

Simplifications: first pins only (nobody has the entry mapped before the call); frames are ordinary
data pages (no page-table frames, whose writable mapping Xen would also refuse).
"""
from __future__ import annotations

from dataclasses import dataclass

from xenlab.xen.public import grant_table as G

NR_GRANT_ENTRIES = G.NR_GRANT_ENTRIES


@dataclass(frozen=True)
class MapCase:
    caller: int                 # the domain making the hypercall
    ref: int                    # op.ref: the entry in the granting domain's table
    flags: int                  # op.flags: GNTMAP_host_map, GNTMAP_device_map, GNTMAP_readonly ...
    dom: int                    # op.dom: the granting domain
    domains: tuple              # domids that exist (and are not dying)
    maptrack_free: int          # free entries in the caller's maptrack table
    sha_flags: int              # the granting domain's shared entry `ref` (grant_entry_t)
    sha_domid: int
    sha_frame: int
    frame_owner: int | None     # the domain owning machine frame sha_frame (None: a free frame)

    def __str__(self) -> str:
        fl = "|".join(n for b, n in ((G.GNTMAP_device_map, "device_map"), (G.GNTMAP_host_map, "host_map"),
                                     (G.GNTMAP_readonly, "readonly")) if self.flags & b) or "0"
        return (f"d{self.caller} maps ref {self.ref} of d{self.dom} ({fl}); domains {list(self.domains)}, "
                f"maptrack_free={self.maptrack_free}; entry flags={self.sha_flags:#x} domid={self.sha_domid} "
                f"frame={self.sha_frame:#x} (owner {self.frame_owner})")


class GrantLab:
    """dom0, ``a`` (d1) and ``b`` (d2) on one machine; pages of each to put in entries."""

    def __init__(self, seed: int = 0):
        import xenlab
        from xenlab.xen.page_alloc import FREE
        self.m = xenlab.Machine(memory_mb=64, seed=seed)
        self.a = self.m.create_domain(xenlab.DomainConfig(name="a", memory=8))
        self.b = self.m.create_domain(xenlab.DomainConfig(name="b", memory=8))
        self.page = {0: self._page(self.m.dom0), 1: self._page(self.a), 2: self._page(self.b)}
        owners = self.m.frame_table.owner
        self.free_frame = int(next(i for i in range(len(owners) - 1, -1, -1) if owners[i] == FREE))

    @staticmethod
    def _page(d) -> int:
        return int(d.p2m[d.kernel.alloc_page()])

    def domain(self, domid: int):
        return {0: self.m.dom0, 1: self.a, 2: self.b}.get(domid)

    def owner_of(self, frame: int) -> int | None:
        from xenlab.xen.page_alloc import FREE
        o = int(self.m.frame_table.owner[frame])
        return None if o == FREE else o

    def case(self, caller, ref, flags, dom, sha_flags, sha_domid, sha_frame, maptrack_full=False) -> MapCase:
        from xenlab.xen.gnttab import MAPTRACK_MAX_ENTRIES, grant_table
        free = 0 if maptrack_full else len(grant_table(self.domain(caller)).maptrack_free)
        free = min(free, MAPTRACK_MAX_ENTRIES)
        return MapCase(caller, ref, flags, dom, tuple(sorted(self.m.domains)), free, sha_flags, sha_domid,
                       sha_frame, self.owner_of(sha_frame))

    def xen(self, case: MapCase) -> tuple[int, int]:
        """Make the call for real; (status, the entry's flags after it). The machine is left as before."""
        from xenlab.xen.gnttab import grant_table
        m = self.m
        rd = self.domain(case.dom)
        in_table = rd is not None and 0 <= case.ref < NR_GRANT_ENTRIES
        if in_table:
            a = grant_table(rd).entry_maddr(case.ref)
            m.memory.write_u16(a + 2, case.sha_domid)
            m.memory.write_u32(a + 4, case.sha_frame)
            m.memory.write_u16(a, case.sha_flags)
        caller = self.domain(case.caller)
        lgt = grant_table(caller)
        saved = lgt.maptrack_free
        if case.maptrack_free == 0:
            lgt.maptrack_free = []
        op = G.GnttabMapGrantRef(flags=case.flags, ref=case.ref, dom=case.dom)
        try:
            caller.hypercall("grant_table_op", G.GNTTABOP_map_grant_ref, [op], 1)
        finally:
            lgt.maptrack_free = saved
        flags = m.memory.read_u16(a) if in_table else case.sha_flags
        if op.status == G.GNTST_okay:
            caller.hypercall("grant_table_op", G.GNTTABOP_unmap_grant_ref,
                             [G.GnttabUnmapGrantRef(handle=op.handle)], 1)
        if in_table:
            m.memory.write_u16(a, 0)
            m.memory.write_u16(a + 2, 0)
            m.memory.write_u32(a + 4, 0)
        return op.status, flags

    def random_case(self, rng) -> MapCase:
        """A mostly plausible map request with one or more things wrong now and then."""
        caller = int(rng.choice([0, 0, 2, 2, 1]))
        dom = int(rng.choice([1, 1, 1, 1, 2, 9, caller]))
        r = rng.random()
        ref = int(rng.integers(8, NR_GRANT_ENTRIES)) if r < 0.9 else int(rng.choice([NR_GRANT_ENTRIES, 4095, 65535]))
        flags = int(rng.choice([G.GNTMAP_host_map] * 5 + [G.GNTMAP_device_map, 0, G.GNTMAP_application_map,
                                                          G.GNTMAP_host_map | G.GNTMAP_device_map]))
        if rng.random() < 0.45:
            flags |= G.GNTMAP_readonly
        kind = int(rng.choice([G.GTF_permit_access] * 7 + [G.GTF_invalid, G.GTF_accept_transfer, G.GTF_transitive]))
        sha_flags = kind | (G.GTF_readonly if rng.random() < 0.4 else 0)
        sha_domid = caller if rng.random() < 0.8 else int(rng.choice([x for x in (0, 1, 2, 7) if x != caller]))
        owner = dom if dom in self.page and rng.random() < 0.8 else int(rng.choice([0, 1, 2, -1]))
        frame = self.free_frame if owner == -1 else self.page[owner]
        return self.case(caller, ref, flags, dom, sha_flags, sha_domid, frame,
                         maptrack_full=rng.random() < 0.08)

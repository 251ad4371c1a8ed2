"""What an attacker can reach, read from raw machine bytes only.

Nothing here uses xenlab's own checking code (xen/mm_types.py, mm_invariants.py): the reachable set
is a walk of the raw page-table bytes from each vcpu's CR3 with the hardware's rules (present bit,
R/W bit at every level, PSE), and the other holders of a frame are read from Xen's records that
name them (grant maptrack and active entries, GDT frames). Tests judge an attack by its effect on
bytes and on the frame table's ``owner`` column: did the attacker reach, read or change a frame
that is not its own.
"""
from __future__ import annotations

import numpy as np

import xenlab
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.xen import DOMID_SELF

PAGE = 4096
_PRESENT, _RW, _PSE = 1, 2, 0x80


def boot(paging: str = "2level", seed: int = 7, memory: int = 4, victims: int = 1):
    """A machine with an attacker domU ``mallory`` and ``victims`` victim domUs."""
    m = xenlab.Machine(memory_mb=64, paging=paging, seed=seed)
    mallory = m.create_domain(xenlab.DomainConfig(name="mallory", memory=memory, maxmem=memory + 1))
    vs = [m.create_domain(xenlab.DomainConfig(name=f"victim{i}", memory=memory)) for i in range(victims)]
    return (m, mallory, *vs)


def _table(m, mfn: int) -> np.ndarray:
    dt = "<u4" if m.paging == "2level" else "<u8"
    return m.memory.data[mfn * PAGE:(mfn + 1) * PAGE].view(dt).astype(np.uint64)


def _addr(e, paging: str) -> int:
    return int(e & (0xFFFFF000 if paging == "2level" else ((1 << 44) - 1) & ~0xFFF)) >> 12


def reachable(m, root_mfn: int) -> dict[int, bool]:
    """{mfn: writable} for every frame a CPU with CR3 = ``root_mfn`` can touch through the raw
    tables (the tables themselves included, read-only unless some entry maps them writable).
    A 4 MiB / 2 MiB superpage entry reaches every frame it covers."""
    n = m.frame_table.nr_frames
    out: dict[int, bool] = {}

    def note(mfn: int, w: bool) -> None:
        if 0 <= mfn < n:
            out[mfn] = out.get(mfn, False) or w

    def walk_l2(l2: int, w_above: bool, slots) -> None:
        note(l2, False)
        t = _table(m, l2)
        for i in slots:
            e = int(t[i])
            if not e & _PRESENT:
                continue
            w = w_above and bool(e & _RW)
            if e & _PSE:
                big = 1024 if m.paging == "2level" else 512
                for f in range(_addr(e, m.paging), _addr(e, m.paging) + big):
                    note(f, w)
                continue
            l1 = _addr(e, m.paging)
            if not 0 <= l1 < n:
                continue
            note(l1, False)
            t1 = _table(m, l1)
            present = np.flatnonzero(t1 & np.uint64(_PRESENT))
            for j in present.tolist():
                note(_addr(t1[j], m.paging), w and bool(int(t1[j]) & _RW))

    if not root_mfn:
        return out
    if m.paging == "2level":
        walk_l2(root_mfn, True, range(1024))
    else:
        note(root_mfn, False)
        t3 = _table(m, root_mfn)
        for s in range(4):
            e = int(t3[s])
            if e & _PRESENT and 0 <= _addr(e, "pae") < n:
                walk_l2(_addr(e, "pae"), True, range(512))
    return out


def reach_of(m, d) -> dict[int, bool]:
    """Union over d's vcpus of what their current page tables reach."""
    out: dict[int, bool] = {}
    for v in d.vcpus:
        mm = getattr(v, "mm", None)
        if mm is not None and mm.guest_table:
            for f, w in reachable(m, mm.guest_table).items():
                out[f] = out.get(f, False) or w
    return out


def granted_to(m, mapper) -> dict[int, bool]:
    """{mfn: writable} of the frames ``mapper`` holds through grant mappings, from its maptrack and
    the granter's shared entry (raw bytes): what a backend may touch besides its own frames."""
    out: dict[int, bool] = {}
    gt = getattr(mapper, "grant_table", None)
    if gt is None:
        return out
    for mt in gt.maptrack:
        if mt is not None:
            w = not mt.flags & G.GNTMAP_readonly
            out[mt.frame] = out.get(mt.frame, False) or w
    return out


def owned(m, d) -> set[int]:
    return set(np.flatnonzero(m.frame_table.owner == d.domain_id).tolist())


def data_frames(m, d) -> list[int]:
    """d's ordinary frames (typed writable or untyped, not shared with Xen), in mfn order."""
    ft = m.frame_table
    return [f for f in sorted(owned(m, d)) if f not in m.xen_heap_frames
            and (int(ft.type_info[f]) >> 29) in (0, 7)]


def fill(m, mfns, tag: bytes) -> None:
    """Write a recognisable 4 KiB pattern (``tag`` and the mfn) into each frame."""
    for f in mfns:
        m.memory.write_bytes(f * PAGE, ((tag + f.to_bytes(4, "little")) * PAGE)[:PAGE])


def frame_bytes(m, mfn: int) -> bytes:
    return bytes(m.memory.data[mfn * PAGE:(mfn + 1) * PAGE])


def copy_op(src, dst, length: int, flags: int = 0):
    """A GNTTABOP_copy from ``src`` to ``dst``, each (u, domid, offset)."""
    return G.GnttabCopy(source=G.GnttabCopyPtr(*src), dest=G.GnttabCopyPtr(*dst), len=length, flags=flags)


def gnttab(d, cmd: int, *ops) -> int:
    return d.hypercall("grant_table_op", cmd, list(ops), len(ops))


__all__ = ["boot", "reachable", "reach_of", "granted_to", "owned", "data_frames", "fill", "frame_bytes",
           "copy_op", "gnttab", "DOMID_SELF", "PAGE"]

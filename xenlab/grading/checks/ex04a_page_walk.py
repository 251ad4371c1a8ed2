"""Exercise 04a: a guest page walk in 2-level and PAE mode: the machine address or the page fault.

Oracle: the Intel SDM vol. 3A ch. 4 as summarised in xen-facts 5b and 6 (formats 10/10/12 with 32-bit
entries and 2/9/9/12 with 64-bit entries; rights are the AND of every level's RW and US, a PAE PDPTE
has none; CR0.WP is on; error code bits 0 protection, 1 write, 2 user). The reference walk below is
written from the manual, independently of xenlab/hw/paging.py; the inputs are real page tables built
by the PV kernel model through Xen, plus hand-made ones.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex04a", chapter=4, functions=("page_walk",),
              title={"pl": "Przejście przez tablice stron (2 poziomy i PAE)", "en": "A page walk (2-level and PAE)"})

FORMAT = {"2level": ((22, 1024), (12, 1024)), "pae": ((30, 4), (21, 512), (12, 512))}


def reference_page_walk(mem, cr3, va, mode, write=False, user=False):
    esize = 4 if mode == "2level" else 8
    addr_mask = 0xFFFFF000 if mode == "2level" else 0xFFFFFF000
    err = (2 if write else 0) | (4 if user else 0)
    table, rw, us = cr3, True, True
    levels = FORMAT[mode]
    for depth, (shift, entries) in enumerate(levels):
        e = mem.read(table + ((va >> shift) & (entries - 1)) * esize, esize)
        if not e & 1:
            return None, err
        if not (mode == "pae" and depth == 0):
            rw, us = rw and bool(e & 2), us and bool(e & 4)
        table = e & addr_mask
    if (write and not rw) or (user and not us):
        return None, err | 1
    return table | (va & 0xFFF), None


_MACHINES = {}


def machine(mode):
    """A small machine with one PV guest and a few user mappings (built once per mode)."""
    if mode not in _MACHINES:
        import xenlab
        m = xenlab.Machine(memory_mb=64, paging=mode, seed=4)
        d = m.create_domain(xenlab.DomainConfig(name="ex04", memory=8))
        d.pause()
        mm = d.kernel.mm
        mm.map_page(0x08048000, 100, writable=False, user=True)
        mm.map_page(0x08049000, 101, writable=True, user=True)
        mm.map_page(0x40000000, 102, writable=True, user=False)
        _MACHINES[mode] = (m, d)
    return _MACHINES[mode]


def _walk(ctx, mode, va, write=False, user=False):
    m, d = machine(mode)
    got = ctx.fn("page_walk")(m.memory, d.vcpus[0].cr3, va, mode, write, user)
    expect(isinstance(got, tuple) and len(got) == 2,
           pl=f"page_walk powinna zwrócić (adres, None) albo (None, kod błędu), a zwróciła {got!r}.",
           en=f"page_walk should return (address, None) or (None, error code), but returned {got!r}.")
    return tuple(None if x is None else int(x) for x in got), reference_page_walk(m.memory, d.vcpus[0].cr3, va, mode,
                                                                                   write, user)


@EX.check(points=2, function="page_walk", title={"pl": "2 poziomy: udane tłumaczenie", "en": "2-level: a translation"})
def w_2level_ok(ctx):
    for va in (0xC0003123, 0x08048ABC, 0x40000FFF):
        got, want = _walk(ctx, "2level", va)
        expect(got == want, pl=f"Adres {va:#x}: zły wynik tłumaczenia w trybie 2-poziomowym.",
               en=f"Address {va:#x}: wrong translation in 2-level mode.")


@EX.check(points=2, function="page_walk", title={"pl": "2 poziomy: błędy strony", "en": "2-level: page faults"})
def w_2level_fault(ctx):
    for va, w, u in ((0x50000000, False, False), (0x08048000, True, True), (0x40000000, False, True),
                     (0xC0000000, False, True)):
        got, want = _walk(ctx, "2level", va, w, u)
        expect(got == want, pl=f"Adres {va:#x} (zapis={w}, użytkownik={u}): zły wynik albo kod błędu.",
               en=f"Address {va:#x} (write={w}, user={u}): wrong result or error code.")


@EX.check(points=2, function="page_walk", title={"pl": "PAE: tłumaczenie i błędy", "en": "PAE: translations and faults"})
def w_pae(ctx):
    for va, w, u in ((0xC0003123, False, False), (0x08049010, True, True), (0x08048000, True, True),
                     (0x50000000, False, False), (0x40000000, False, True)):
        got, want = _walk(ctx, "pae", va, w, u)
        expect(got == want, pl=f"PAE, adres {va:#x} (zapis={w}, użytkownik={u}): zły wynik.",
               en=f"PAE, address {va:#x} (write={w}, user={u}): wrong result.")


@EX.check(points=3, function="page_walk", hidden=True, title={"pl": "losowe adresy", "en": "random addresses"})
def w_random(ctx):
    for _ in range(300):
        mode = "2level" if ctx.rng.random() < 0.5 else "pae"
        va = int(ctx.rng.choice([int(ctx.rng.integers(0, 1 << 32)), 0xC0000000 + int(ctx.rng.integers(0, 1 << 23)),
                                 0x08048000 + int(ctx.rng.integers(0, 0x2000)), 0x40000000 + int(ctx.rng.integers(0, 0x1000))]))
        w, u = bool(ctx.rng.random() < 0.5), bool(ctx.rng.random() < 0.5)
        got, want = _walk(ctx, mode, va, w, u)
        expect(got == want, pl=f"page_walk({mode}, {va:#x}, zapis={w}, użytkownik={u}): oczekiwano {want}, jest {got}.",
               en=f"page_walk({mode}, {va:#x}, write={w}, user={u}): expected {want}, got {got}.")

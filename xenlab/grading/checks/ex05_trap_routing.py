"""Exercise 05: which handler runs, in which ring, through Xen or not (exceptions and int n).

Oracle: xen-facts section 6 (3.0 traps.c, x86_32/traps.c, entry.S): a hardware exception of a PV
guest always enters Xen (ring 0) and is bounced to the guest handler in ring 1, or crashes the domain
when no handler is registered; `int n` from ring r is allowed when the virtual IDT entry has DPL >= r;
int $0x80 registered with DPL 3 and without the IF flag uses a direct trap gate (r -> 1, no Xen);
a forbidden or unregistered `int n` becomes #GP (vector 13) bounced through Xen.
xenlab.xen.traps implements the same rules; the notebook compares both on the live model.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect

EX = exercise("ex05", chapter=5, functions=("route",),
              title={"pl": "Dokąd trafia wyjątek lub wywołanie systemowe", "en": "Where an exception or a system call goes"})


def reference_route(table, vector, from_ring, software):
    """(vector of the handler that runs, rings visited) or None when the domain crashes."""
    flags, address = table.get(vector, (0, 0))
    if not software:
        return (vector, (from_ring, 0, 1)) if address else None
    if address and (flags & 3) >= from_ring:
        if vector == 0x80 and not flags & 4:
            return (0x80, (from_ring, 1))
        return (vector, (from_ring, 0, 1))
    gp_flags, gp_address = table.get(13, (0, 0))
    return (13, (from_ring, 0, 1)) if gp_address else None


LINUX = {0: (0, 0xC0100000), 3: (3, 0xC0100030), 13: (0, 0xC01000D0), 14: (4, 0xC01000E0), 0x80: (3, 0xC0100800)}


def _route(ctx, *args):
    got = ctx.fn("route")(*args)
    if got is not None:
        expect(isinstance(got, tuple) and len(got) == 2,
               pl=f"route powinna zwrócić (wektor, pierścienie) albo None, a zwróciła {got!r}.",
               en=f"route should return (vector, rings) or None, but returned {got!r}.")
        got = (int(got[0]), tuple(int(r) for r in got[1]))
    return got


@EX.check(points=1, function="route", title={"pl": "szybkie wywołanie systemowe", "en": "the fast system call"})
def r_int80(ctx):
    expect(_route(ctx, LINUX, 0x80, 3, True) == (0x80, (3, 1)),
           pl="int $0x80 z DPL 3 i bez flagi IF nie przechodzi przez Xena.", en="int $0x80 with DPL 3 and no IF flag does not go through Xen.")


@EX.check(points=1, function="route", title={"pl": "błąd strony", "en": "a page fault"})
def r_pf(ctx):
    expect(_route(ctx, LINUX, 14, 3, False) == (14, (3, 0, 1)),
           pl="Błąd strony zawsze najpierw trafia do Xena.", en="A page fault always reaches Xen first.")


@EX.check(points=1, function="route", title={"pl": "niedozwolone int n", "en": "a forbidden int n"})
def r_denied(ctx):
    expect(_route(ctx, LINUX, 14, 3, True) == (13, (3, 0, 1)),
           pl="Aplikacja nie może wywołać wektora z DPL 0.", en="An application may not raise a vector with DPL 0.")
    expect(_route(ctx, {}, 6, 3, False) is None,
           pl="Bez procedury obsługi wyjątku Xen nie ma dokąd go odbić.", en="With no handler Xen has nowhere to bounce the exception.")


@EX.check(points=2, function="route", hidden=True, title={"pl": "losowe tablice", "en": "random tables"})
def r_random(ctx):
    for _ in range(300):
        table = {}
        for vec in (0, 3, 6, 13, 14, 0x80, 0x81):
            if ctx.rng.random() < 0.7:
                table[vec] = (int(ctx.rng.integers(0, 8)), 0xC0100000 + vec * 16)
        vec = int(ctx.rng.choice([0, 3, 6, 13, 14, 0x80, 0x81]))
        ring = int(ctx.rng.choice([1, 3]))
        soft = bool(ctx.rng.random() < 0.6)
        want = reference_route(table, vec, ring, soft)
        got = _route(ctx, table, vec, ring, soft)
        expect(got == want, pl=f"route({table}, {vec:#x}, {ring}, {soft}): oczekiwano {want}, jest {got}.",
               en=f"route({table}, {vec:#x}, {ring}, {soft}): expected {want}, got {got}.")

"""Exercise 04b: validating one L1 entry as Xen's mod_l1_entry does, with reference and type counts.

Oracle: xen-facts 5d (X@RELEASE-3.0.0:xen/arch/x86/mm.c: get_page_from_l1e, get_page_type,
put_page_from_l1e, mod_l1_entry): a not-present entry is fine; flags in L1_DISALLOW_MASK (PSE/PAT,
GLOBAL) are refused; the frame must be RAM owned by the domain with a nonzero count; a writable
mapping takes a PGT_writable_page type reference, which fails while the frame has another type with a
nonzero type count; the new reference is taken before the old one is dropped; unchanged frame and
rights move no references. 2-level (32-bit) entries.
"""
from __future__ import annotations

import copy

from xenlab.grading.registry import exercise, expect

EX = exercise("ex04b", chapter=4, functions=("mod_l1_entry",),
              title={"pl": "Weryfikacja wpisu L1 i liczniki typów", "en": "L1 entry validation and type counts"})

L1_DISALLOW = 0x180


def reference_mod_l1_entry(frames, domid, old, new):
    """``frames``: mfn -> {"owner", "count", "type", "type_count"}; changed in place only on success."""
    if new & 1:
        if new & 0xFFF & L1_DISALLOW:
            return False
        if old & 1 and (old >> 12) == (new >> 12) and (old & 2) == (new & 2):
            return True
        f = frames.get(new >> 12)
        if f is None or f["owner"] != domid or f["count"] == 0:
            return False
        if new & 2:
            if f["type_count"] > 0 and f["type"] != "writable":
                return False
            f["type"] = "writable"
            f["type_count"] += 1
        f["count"] += 1
    if old & 1:
        f = frames[old >> 12]
        f["count"] -= 1
        if old & 2:
            f["type_count"] -= 1
    return True


def base_frames():
    return {0x100: {"owner": 1, "count": 1, "type": "none", "type_count": 0},         # a fresh page of d1
            0x101: {"owner": 1, "count": 2, "type": "writable", "type_count": 1},     # mapped writable once
            0x102: {"owner": 1, "count": 2, "type": "l1", "type_count": 1},           # a page table of d1
            0x103: {"owner": 2, "count": 1, "type": "none", "type_count": 0},         # d2's page
            0x104: {"owner": 1, "count": 0, "type": "none", "type_count": 0},         # being freed
            0x105: {"owner": 1, "count": 3, "type": "l2", "type_count": 0}}           # was a table, now unused


def _run(ctx, old, new, frames=None):
    frames = base_frames() if frames is None else frames
    want_frames = copy.deepcopy(frames)
    want = reference_mod_l1_entry(want_frames, 1, old, new)
    got = ctx.fn("mod_l1_entry")(frames, 1, old, new)
    return bool(got), frames, want, want_frames


@EX.check(points=1, function="mod_l1_entry", title={"pl": "zwykłe odwzorowanie", "en": "an ordinary mapping"})
def l1_plain(ctx):
    got, frames, want, wf = _run(ctx, 0, 0x100 << 12 | 0x7)
    expect(got is True, pl="Własna, świeża strona może być odwzorowana do zapisu.", en="A fresh page of one's own may be mapped writable.")
    expect(frames == wf, pl="Liczniki po odwzorowaniu do zapisu się nie zgadzają.", en="The counts after a writable mapping are wrong.")
    got, frames, want, wf = _run(ctx, 0, 0x102 << 12 | 0x5)
    expect(got is True and frames == wf, pl="Tablicę stron wolno odwzorować tylko do odczytu; tu coś się nie zgadza.",
           en="A page table may be mapped read-only; something is off here.")


@EX.check(points=2, function="mod_l1_entry", title={"pl": "czego Xen zabrania", "en": "what Xen forbids"})
def l1_forbidden(ctx):
    for new, why_pl, why_en in (
            (0x102 << 12 | 0x7, "tablica stron do zapisu", "a page table mapped writable"),
            (0x103 << 12 | 0x5, "cudza ramka", "another domain's frame"),
            (0x100 << 12 | 0x105, "flaga GLOBAL", "the GLOBAL flag"),
            (0x104 << 12 | 0x5, "ramka bez referencji", "a frame with no references"),
            (0x999 << 12 | 0x5, "ramka spoza tabeli", "a frame outside the table")):
        got, frames, want, wf = _run(ctx, 0, new)
        expect(got is False, pl=f"Xen odrzuca: {why_pl}.", en=f"Xen refuses {why_en}.")
        expect(frames == base_frames(), pl="Odrzucona aktualizacja nie może niczego zmienić.",
               en="A refused update must change nothing.")


@EX.check(points=2, function="mod_l1_entry", title={"pl": "zmiana i usunięcie wpisu", "en": "changing and clearing an entry"})
def l1_replace(ctx):
    for old, new in ((0x101 << 12 | 0x7, 0x100 << 12 | 0x7), (0x101 << 12 | 0x7, 0), (0x101 << 12 | 0x7, 0x101 << 12 | 0x67),
                     (0x101 << 12 | 0x7, 0x101 << 12 | 0x5), (0x105 << 12 | 0x5, 0x105 << 12 | 0x7)):
        got, frames, want, wf = _run(ctx, old, new)
        expect(got == want and frames == wf,
               pl=f"Zmiana wpisu {old:#x} -> {new:#x}: zła decyzja albo złe liczniki.",
               en=f"Changing entry {old:#x} -> {new:#x}: wrong verdict or wrong counts.")


@EX.check(points=3, function="mod_l1_entry", hidden=True, title={"pl": "losowe aktualizacje", "en": "random updates"})
def l1_random(ctx):
    types = ["none", "writable", "l1", "l2", "gdt"]
    for _ in range(300):
        frames = {}
        for mfn in range(0x200, 0x208):
            t = types[int(ctx.rng.integers(0, len(types)))]
            frames[mfn] = {"owner": int(ctx.rng.choice([1, 1, 1, 2])), "count": int(ctx.rng.integers(0, 4)) + 1,
                           "type": t, "type_count": int(ctx.rng.integers(0, 3)) if t != "none" else 0}
        def entry():
            if ctx.rng.random() < 0.15:
                return 0
            return int(ctx.rng.integers(0x200, 0x209)) << 12 | 1 | int(ctx.rng.choice([0, 2, 4, 6, 0x100, 0x80, 0x60]))
        old = entry()
        if old & 1 and (old >> 12 not in frames or frames[old >> 12]["owner"] != 1):
            old = 0
        elif old & 1:
            old &= ~0x180
            frames[old >> 12]["count"] += 1
            if old & 2:
                frames[old >> 12]["type"], frames[old >> 12]["type_count"] = "writable", frames[old >> 12]["type_count"] + 1
        new = entry()
        got, got_frames, want, wf = _run(ctx, old, new, frames)
        expect(got == want and got_frames == wf,
               pl=f"mod_l1_entry(old={old:#x}, new={new:#x}): oczekiwano {want} i {wf}; jest {got} i {got_frames}.",
               en=f"mod_l1_entry(old={old:#x}, new={new:#x}): expected {want} and {wf}; got {got} and {got_frames}.")

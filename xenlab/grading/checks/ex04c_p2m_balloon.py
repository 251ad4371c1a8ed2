"""Exercise 04c: keeping P2M and M2P consistent while the balloon driver gives memory back and takes it.

Oracle: X@RELEASE-3.0.0 (xen-facts section 2) and XenLinux's balloon driver
(linux-2.6-xen-sparse/drivers/xen/balloon/balloon.c, decrease_reservation / increase_reservation):
- giving pages back: read each pfn's mfn from the P2M, pass the *mfns* to XENMEM_decrease_reservation
  (xen/common/memory.c: Xen frees them and writes INVALID_M2P_ENTRY into the M2P); the call returns
  how many extents it took, from the start of the list; only those pfns become holes
  (INVALID_P2M_ENTRY, 0xFFFFFFFF);
- taking pages: XENMEM_increase_reservation hands out mfns (possibly fewer than asked, never more
  than max_pages allows); the guest puts each one into a hole of its P2M and tells Xen the new M2P
  entry with mmu_update(ptr = mfn << 12 | MMU_MACHPHYS_UPDATE, val = pfn) (xen/arch/x86/mm.c,
  do_mmu_update: Xen checks that the frame is the caller's).
The checks run the student's functions against a small stand-in for Xen (``FakeXen``: owners, M2P,
the three calls with Xen's rules) and then check the invariants, not one fixed answer: every valid P2M
entry names a frame the domain owns whose M2P entry points back; every frame the domain owns is in its
P2M; holes are INVALID. tests/grading/test_exercises_i12.py runs the reference on the live model.
"""
from __future__ import annotations

from xenlab.grading.registry import exercise, expect, fail

EX = exercise("ex04c", chapter=4, functions=("balloon_out", "balloon_in"),
              title={"pl": "P2M i M2P zgodne przy balonowaniu", "en": "P2M and M2P kept consistent while ballooning"})

INVALID = 0xFFFFFFFF
MMU_NORMAL_PT_UPDATE, MMU_MACHPHYS_UPDATE = 0, 1
EINVAL = 22
DOM = 3


def reference_balloon_out(p2m, pfns, decrease_reservation):
    mfns = [p2m[pfn] for pfn in pfns]
    done = decrease_reservation(mfns)
    holes = list(pfns[:max(done, 0)])
    for pfn in holes:
        p2m[pfn] = INVALID
    return holes


def reference_balloon_in(p2m, holes, increase_reservation, mmu_update):
    mfns = increase_reservation(len(holes))
    filled, reqs = [], []
    for pfn, mfn in zip(holes, mfns):
        p2m[pfn] = mfn
        reqs.append((mfn << 12 | MMU_MACHPHYS_UPDATE, pfn))
        filled.append(pfn)
    if reqs:
        mmu_update(reqs)
    return filled


class FakeXen:
    """One domain's frames as Xen sees them: owner, M2P, a free pool and max_pages."""

    def __init__(self, rng, nr_pages: int = 48, nr_frames: int = 400, spare: int = 8):
        self.nr_frames = nr_frames
        order = [int(x) for x in rng.permutation(nr_frames)]
        self.owner = {m: None for m in range(nr_frames)}
        self.m2p = {m: INVALID for m in range(nr_frames)}
        self.p2m = []
        for pfn, mfn in enumerate(order[:nr_pages]):
            self.owner[mfn] = DOM
            self.m2p[mfn] = pfn
            self.p2m.append(mfn)
        self.free = order[nr_pages:]
        self.tot_pages = nr_pages
        self.max_pages = nr_pages + spare
        self.calls = []
        self.stop_at = None          # one-shot: decrease_reservation refuses the extent at this index

    # the three calls, with Xen's rules
    def decrease_reservation(self, extents):
        self.calls.append(("decrease_reservation", list(extents)))
        stop, self.stop_at = self.stop_at, None
        for i, mfn in enumerate(extents):
            if not isinstance(mfn, int) or self.owner.get(mfn) != DOM or i == stop:
                return i                                        # "Bad page free": stop here
            self.owner[mfn] = None
            self.m2p[mfn] = INVALID
            self.free.append(mfn)
            self.tot_pages -= 1
        return len(extents)

    def increase_reservation(self, n):
        self.calls.append(("increase_reservation", n))
        n = max(0, min(int(n), self.max_pages - self.tot_pages, len(self.free)))
        got = [self.free.pop(0) for _ in range(n)]
        for mfn in got:
            self.owner[mfn] = DOM
        self.tot_pages += n
        return got

    def mmu_update(self, reqs):
        reqs = list(reqs)
        self.calls.append(("mmu_update", reqs))
        for ptr, val in reqs:
            if ptr & 3 != MMU_MACHPHYS_UPDATE:
                return -EINVAL                                  # a PTE write to a frame that is no page table
            mfn = ptr >> 12
            if self.owner.get(mfn) != DOM:
                return -EINVAL
            self.m2p[mfn] = val
        return 0

    # the invariants
    def problems(self, p2m) -> list:
        out = []
        owned = {m for m, o in self.owner.items() if o == DOM}
        seen = set()
        for pfn, mfn in enumerate(p2m):
            if mfn == INVALID:
                continue
            if self.owner.get(mfn) != DOM:
                out.append(("not_owned", pfn, mfn))
            elif self.m2p[mfn] != pfn:
                out.append(("m2p", pfn, mfn))
            seen.add(mfn)
        for mfn in sorted(owned - seen):
            out.append(("lost", self.m2p[mfn], mfn))
        return out


PROBLEM_TEXT = {
    "not_owned": ("P2M[{pfn}] = {mfn:#x}, a ta ramka nie należy już do domeny.",
                  "P2M[{pfn}] = {mfn:#x}, but that frame no longer belongs to the domain."),
    "m2p": ("P2M[{pfn}] = {mfn:#x}, ale M2P[{mfn:#x}] nie wskazuje z powrotem na pfn {pfn}.",
            "P2M[{pfn}] = {mfn:#x}, but M2P[{mfn:#x}] does not point back at pfn {pfn}."),
    "lost": ("Ramka {mfn:#x} należy do domeny, ale nie ma jej w P2M (zgubiona pamięć).",
             "Frame {mfn:#x} belongs to the domain but is not in its P2M (lost memory)."),
}


def _expect_consistent(xen, p2m, when_pl, when_en, give=False):
    probs = xen.problems(p2m)
    if probs:
        kind, pfn, mfn = probs[0]
        pl, en = PROBLEM_TEXT[kind]
        detail_pl = pl.format(pfn=pfn, mfn=mfn) if give else ""
        detail_en = en.format(pfn=pfn, mfn=mfn) if give else ""
        fail(pl=f"{when_pl}: P2M i M2P nie są zgodne ({len(probs)} niezgodności). {detail_pl}".strip(),
             en=f"{when_en}: P2M and M2P disagree ({len(probs)} inconsistencies). {detail_en}".strip())


def _pfns(ctx, xen, n):
    return [int(p) for p in ctx.rng.choice(len(xen.p2m), size=n, replace=False)]


def _out(ctx, xen, pfns):
    p2m = list(xen.p2m)
    holes = ctx.fn("balloon_out")(p2m, list(pfns), xen.decrease_reservation)
    expect(isinstance(holes, (list, tuple)) and all(isinstance(p, int) for p in holes),
           pl=f"balloon_out powinna zwrócić listę pfn, które stały się dziurami, a zwróciła {holes!r}.",
           en=f"balloon_out should return the list of pfns that became holes, but returned {holes!r}.")
    return p2m, list(holes)


def _in(ctx, xen, p2m, holes):
    filled = ctx.fn("balloon_in")(p2m, list(holes), xen.increase_reservation, xen.mmu_update)
    expect(isinstance(filled, (list, tuple)) and all(isinstance(p, int) for p in filled),
           pl=f"balloon_in powinna zwrócić listę wypełnionych pfn, a zwróciła {filled!r}.",
           en=f"balloon_in should return the list of pfns it filled, but returned {filled!r}.")
    return list(filled)


class _Rng:
    """A fixed generator for the public checks (the same case for everybody)."""

    def __init__(self, seed):
        import numpy as np
        self.g = np.random.default_rng(seed)

    def __getattr__(self, name):
        return getattr(self.g, name)


# --- balloon_out -------------------------------------------------------------------------------------
@EX.check(points=1, function="balloon_out", title={"pl": "oddanie czterech stron", "en": "giving four pages back"})
def out_four(ctx):
    xen = FakeXen(_Rng(1))
    pfns = [5, 9, 17, 30]
    want = [xen.p2m[p] for p in pfns]
    p2m, holes = _out(ctx, xen, pfns)
    got_calls = [c for c in xen.calls if c[0] == "decrease_reservation"]
    expect(got_calls and got_calls[0][1] == want,
           pl="XENMEM_decrease_reservation dostało złą listę: Xen zna ramki maszynowe, nie numery stron gościa.",
           en="XENMEM_decrease_reservation got the wrong list: Xen knows machine frames, not the guest's page numbers.")
    expect(sorted(holes) == sorted(pfns) and all(p2m[p] == INVALID for p in pfns),
           pl="Oddane strony powinny stać się dziurami w P2M (INVALID_P2M_ENTRY).",
           en="The pages given back should become holes in the P2M (INVALID_P2M_ENTRY).")
    _expect_consistent(xen, p2m, "Po oddaniu stron", "After giving the pages back")


@EX.check(points=1, function="balloon_out", title={"pl": "Xen przyjął tylko część", "en": "Xen took only some"})
def out_partial(ctx):
    xen = FakeXen(_Rng(2))
    pfns = [3, 4, 7, 11, 12]
    xen.stop_at = 2                                      # Xen refuses the third extent and stops there
    p2m, holes = _out(ctx, xen, pfns)
    expect(sorted(holes) == [3, 4] and all(p2m[p] == xen.p2m[p] for p in (7, 11, 12)),
           pl="Gdy Xen przyjmie tylko część listy, dziurami mogą zostać tylko strony, które naprawdę oddał.",
           en="When Xen takes only part of the list, only the pages it really took may become holes.")


# --- balloon_in --------------------------------------------------------------------------------------
@EX.check(points=1, function="balloon_in", title={"pl": "wypełnienie trzech dziur", "en": "filling three holes"})
def in_three(ctx):
    xen = FakeXen(_Rng(3))
    p2m, _ = list(xen.p2m), None
    holes = [2, 8, 20]
    xen.decrease_reservation([p2m[p] for p in holes])
    for p in holes:
        p2m[p] = INVALID
    filled = _in(ctx, xen, p2m, holes)
    expect(sorted(filled) == sorted(holes),
           pl="Xen dał tyle stron, ile było dziur: każda dziura powinna zostać wypełniona.",
           en="Xen gave as many pages as there were holes: every hole should be filled.")
    expect(any(c[0] == "mmu_update" for c in xen.calls),
           pl="Xen nie dowiedział się o nowych wpisach M2P (którym hiperwywołaniem gość je zgłasza?).",
           en="Xen never heard of the new M2P entries (which hypercall does the guest report them with?).")
    _expect_consistent(xen, p2m, "Po wypełnieniu dziur", "After filling the holes")


@EX.check(points=1, function="balloon_in", title={"pl": "Xen dał mniej, niż proszono", "en": "Xen gave fewer than asked"})
def in_fewer(ctx):
    xen = FakeXen(_Rng(4), spare=0)
    p2m = list(xen.p2m)
    holes = [1, 6, 13, 14]
    xen.decrease_reservation([p2m[p] for p in holes])
    for p in holes:
        p2m[p] = INVALID
    xen.max_pages -= 2                                  # the administrator lowered the limit meanwhile
    filled = _in(ctx, xen, p2m, holes)
    expect(len(filled) == 2 and set(filled) <= set(holes),
           pl="Xen dał tylko dwie strony: wypełnione mogą być tylko dwie dziury.",
           en="Xen gave only two pages: only two holes can be filled.")
    _expect_consistent(xen, p2m, "Po częściowym wypełnieniu", "After a partial refill")


# --- hidden: per-student sessions ----------------------------------------------------------------------
def _session(ctx, rounds: int):
    xen = FakeXen(ctx.rng, nr_pages=int(ctx.rng.integers(32, 96)), spare=int(ctx.rng.integers(0, 6)))
    p2m, all_holes = list(xen.p2m), []
    for r in range(rounds):
        valid = [p for p, m in enumerate(p2m) if m != INVALID]
        n = int(ctx.rng.integers(1, 9))
        pfns = [int(p) for p in ctx.rng.choice(valid, size=min(n, len(valid)), replace=False)]
        if ctx.rng.random() < 0.3 and len(pfns) > 1:
            xen.stop_at = int(ctx.rng.integers(0, len(pfns)))   # Xen refuses one extent and stops there
        yield "out", xen, p2m, pfns, all_holes
        if ctx.rng.random() < 0.6 and all_holes:
            k = int(ctx.rng.integers(1, len(all_holes) + 1))
            yield "in", xen, p2m, all_holes[:k], all_holes


@EX.check(points=2, function="balloon_out", hidden=True, timeout=10,
          title={"pl": "losowe sesje balonu (oddawanie)", "en": "random balloon sessions (giving back)"})
def out_random(ctx):
    for step, xen, p2m, pfns, all_holes in _session(ctx, 12):
        if step != "out":
            reference_balloon_in(p2m, pfns, xen.increase_reservation, xen.mmu_update)
            del all_holes[:len(pfns)]
            continue
        before = list(p2m)
        want = list(pfns[:xen.stop_at]) if xen.stop_at is not None else list(pfns)
        holes = ctx.fn("balloon_out")(p2m, list(pfns), xen.decrease_reservation)
        expect(list(holes or []) == want,
               pl=f"balloon_out(pfns={pfns}): zwrócone dziury {holes} nie są tymi, które Xen naprawdę zabrał ({want}).",
               en=f"balloon_out(pfns={pfns}): the holes returned, {holes}, are not the pages Xen really took ({want}).")
        expect(all(p2m[p] == before[p] for p in range(len(p2m)) if p not in want),
               pl="balloon_out zmieniła wpisy P2M stron, których nie oddała.",
               en="balloon_out changed the P2M entries of pages it did not give back.")
        _expect_consistent(xen, p2m, f"Po balloon_out({pfns})", f"After balloon_out({pfns})", give=True)
        all_holes += want


@EX.check(points=2, function="balloon_in", hidden=True, timeout=10,
          title={"pl": "losowe sesje balonu (branie)", "en": "random balloon sessions (taking)"})
def in_random(ctx):
    for step, xen, p2m, pfns, all_holes in _session(ctx, 12):
        if step == "out":
            all_holes += reference_balloon_out(p2m, pfns, xen.decrease_reservation)
            continue
        free_before = xen.max_pages - xen.tot_pages
        filled = ctx.fn("balloon_in")(p2m, list(pfns), xen.increase_reservation, xen.mmu_update)
        filled = list(filled or [])
        expect(len(filled) == min(len(pfns), free_before) and set(filled) <= set(pfns) and
               len(set(filled)) == len(filled),
               pl=f"balloon_in(holes={pfns}): wypełniono {filled}; Xen mógł dać {min(len(pfns), free_before)} stron.",
               en=f"balloon_in(holes={pfns}): filled {filled}; Xen could give {min(len(pfns), free_before)} pages.")
        _expect_consistent(xen, p2m, f"Po balloon_in({pfns})", f"After balloon_in({pfns})", give=True)
        for p in filled:
            all_holes.remove(p)

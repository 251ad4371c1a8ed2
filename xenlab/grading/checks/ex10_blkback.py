"""Exercise 10: blkback's request handler (Xen 3.0 blkback's do_block_io_op switch and
dispatch_rw_block_io), written against ``xenlab.dom0.blkreq.BlkbackIO``.

Oracle: xen-facts section 2a (operations READ 0 / WRITE 1, 1..11 segments, first_sect <= last_sect
<= 7, 512-byte sectors, BLKIF_RSP_OKAY 0 / ERROR -1) and the model's blkback (xenlab/dom0/blkback.py):
any bad request gets one BLKIF_RSP_ERROR and moves no data; a write maps the guest's pages read-only
(blkfront grants them so); a write to a read-only disk and a range past the end of the image are
refused; every grant is unmapped before answering. The reference handler below is compared with the
model's blkback in tests/grading/test_ex09_ex10.py.

Each case runs on a real machine: a guest grants real pages to dom0, the image is a temporary file.
The reference handler runs first, its image and pages are kept, the state is restored, then the
student's handler runs and the two outcomes are compared byte for byte.
"""
from __future__ import annotations

import os
import tempfile

from xenlab.grading.registry import expect, exercise, fail
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io import blkif as B

EX = exercise("ex10", chapter=10, functions=("handle_request",),
              title={"pl": "Część zaplecza urządzenia blokowego: obsługa żądania", "en": "The block back end: handling a request"})

SECTOR = B.SECTOR_SIZE
OKAY, ERROR = B.BLKIF_RSP_OKAY, B.BLKIF_RSP_ERROR
SLOW = 40                       # seconds: each check builds a machine (about 0.3 s) and runs many requests


def reference_handle_request(be, req):
    def error():
        be.respond(req.id, req.operation, ERROR)

    if req.operation not in (B.BLKIF_OP_READ, B.BLKIF_OP_WRITE):
        return error()
    if not 1 <= req.nr_segments <= B.BLKIF_MAX_SEGMENTS_PER_REQUEST:
        return error()
    segs = req.seg[:req.nr_segments]
    if any(s.last_sect >= B.SECTORS_PER_PAGE or s.first_sect > s.last_sect for s in segs):
        return error()
    write = req.operation == B.BLKIF_OP_WRITE
    pages = []
    for s in segs:
        status, page = be.map_grant(s.gref, readonly=write)
        if status != G.GNTST_okay:
            for p in pages:
                be.unmap(p)
            return error()
        pages.append(page)
    nsect = sum(s.last_sect - s.first_sect + 1 for s in segs)
    if (write and be.readonly) or req.sector_number + nsect > be.sectors:
        for p in pages:
            be.unmap(p)
        return error()
    sector = req.sector_number
    for page, s in zip(pages, segs):
        n = s.last_sect - s.first_sect + 1
        if write:
            be.write_sectors(sector, page.read(s.first_sect * SECTOR, n * SECTOR))
        else:
            page.write(s.first_sect * SECTOR, be.read_sectors(sector, n))
        sector += n
    for p in pages:
        be.unmap(p)
    be.respond(req.id, req.operation, OKAY)


class Bench:
    """A machine with one guest whose pages are granted to dom0, and a disk image file."""

    def __init__(self, rng, sectors: int | None = None, seed: int = 0):
        import xenlab
        from xenlab.guest.gnttab import guest_grants
        self.rng = rng
        self.dir = tempfile.TemporaryDirectory(prefix="xenlab-ex10-")
        self.sectors = int(sectors or rng.integers(40, 97))
        self.image = os.path.join(self.dir.name, "disk.img")
        with open(self.image, "wb") as f:
            f.write(rng.integers(0, 256, self.sectors * SECTOR, dtype="uint8").tobytes())
        self.m = xenlab.Machine(memory_mb=64, seed=seed)
        self.d = self.m.create_domain(xenlab.DomainConfig(name="guest", memory=8))
        self.grants = guest_grants(self.d.kernel)
        self.pages: dict[int, int] = {}            # ref -> mfn
        self.next_id = int(rng.integers(1, 1000))

    def close(self) -> None:
        self.dir.cleanup()

    def grant(self, readonly: bool, to: int = 0) -> int:
        """A fresh guest page full of random bytes, granted to domain ``to``; returns the ref."""
        k = self.d.kernel
        mfn = self.d.p2m[k.alloc_page()]
        self.m.memory.write_bytes(mfn << 12, self.rng.integers(0, 256, 4096, dtype="uint8").tobytes())
        ref = self.grants.grant_foreign_access(to, mfn, readonly=readonly)
        self.pages[ref] = mfn
        return ref

    def request(self, op: int, sector: int, segs: list[tuple[int, int, int]], nr: int | None = None):
        """A blkif request: ``segs`` are (gref, first_sect, last_sect)."""
        self.next_id += 1
        seg = [B.BlkifRequestSegment(g, a, b) for g, a, b in segs][:B.BLKIF_MAX_SEGMENTS_PER_REQUEST]
        return B.BlkifRequest(op, len(segs) if nr is None else nr, 0, self.next_id, sector, seg)

    def good(self, op: int, nsegs: int, sector: int | None = None):
        segs = []
        for _ in range(nsegs):
            a = int(self.rng.integers(0, 8))
            b = int(self.rng.integers(a, 8))
            segs.append((self.grant(readonly=op == B.BLKIF_OP_WRITE), a, b))
        n = sum(b - a + 1 for _, a, b in segs)
        if sector is None:
            sector = int(self.rng.integers(0, max(1, self.sectors - n + 1)))
        return self.request(op, sector, segs)

    # -- state ---------------------------------------------------------------------------------------
    def snapshot(self) -> tuple[bytes, dict[int, bytes]]:
        with open(self.image, "rb") as f:
            img = f.read()
        return img, {ref: self.m.memory.read_bytes(mfn << 12, 4096) for ref, mfn in self.pages.items()}

    def restore(self, snap) -> None:
        img, pages = snap
        with open(self.image, "wb") as f:
            f.write(img)
        for ref, raw in pages.items():
            self.m.memory.write_bytes(self.pages[ref] << 12, raw)

    def leftovers(self) -> list[str]:
        """Mappings a handler forgot: dom0's maptrack entries and GTF_reading/writing still set."""
        from xenlab.xen.gnttab import grant_table
        out = [f"handle {h} (gref {mt.ref})" for h, mt in grant_table(self.m.dom0).mappings().items()]
        out += [f"gref {ref}" for ref in self.pages
                if self.grants.entry(ref).flags & (G.GTF_reading | G.GTF_writing)]
        return out

    def run(self, handler, req, readonly_disk: bool):
        """Run ``handler`` on ``req``; (be, error) with error the access the model refused, if any."""
        from xenlab.dom0.blkreq import BlkbackIO
        be = BlkbackIO(self.m, self.d.domain_id, self.image, self.sectors, readonly_disk)
        try:
            handler(be, req)
            problem = None
        except PermissionError as exc:              # ImageAccessError, or a ForeignPage refusal
            problem = str(exc)
        return be, problem


def describe(req) -> str:
    op = {0: "READ", 1: "WRITE"}.get(req.operation, f"op {req.operation}")
    segs = ", ".join(f"(gref {s.gref}, {s.first_sect}..{s.last_sect})" for s in req.seg[:req.nr_segments])
    return f"{op} id={req.id} sector={req.sector_number} nr_segments={req.nr_segments} [{segs}]"


def _log_tail(be, n: int = 6) -> str:
    return "; ".join(be.log[-n:]) or "-"


def compare(ctx, bench: Bench, req, readonly_disk: bool = False, give_answer: bool = False):
    """Reference first, then the student's handler from the same state; compare everything."""
    before = bench.snapshot()
    ref_be, _ = bench.run(reference_handle_request, req, readonly_disk)
    want_status = ref_be.responses[0].status
    want = bench.snapshot()
    bench.restore(before)
    student = ctx.fn("handle_request")
    be, problem = bench.run(student, req, readonly_disk)
    what = describe(req) + (" (read-only disk)" if readonly_disk else "")
    what_pl = describe(req) + (" (dysk tylko do odczytu)" if readonly_disk else "")
    left = bench.leftovers()
    steps = list(be.log)
    # Clean up whatever the student left mapped, so later cases start clean.
    for page in list(be.mapped.values()):
        be.unmap(page)
    be.log = steps
    got = bench.snapshot()
    bench.restore(before)
    if problem:
        fail(pl=f"{what_pl}: część zaplecza sięgnęła tam, gdzie nie wolno: {problem}. Ostatnie kroki: {_log_tail(be)}",
             en=f"{what}: the back end touched what it may not: {problem}. Last steps: {_log_tail(be)}")
    expect(len(be.responses) == 1,
           pl=f"{what_pl}: na każde żądanie idzie dokładnie jedna odpowiedź, a było ich {len(be.responses)}. "
              f"Ostatnie kroki: {_log_tail(be)}",
           en=f"{what}: every request gets exactly one response, there were {len(be.responses)}. "
              f"Last steps: {_log_tail(be)}")
    rsp = be.responses[0]
    expect(rsp.id == req.id and rsp.operation == req.operation,
           pl=f"{what_pl}: odpowiedź musi nieść id i operację żądania (gość dopasowuje po id); "
              f"jest id={rsp.id}, operation={rsp.operation}.",
           en=f"{what}: the response must carry the request's id and operation (the guest matches by id); "
              f"got id={rsp.id}, operation={rsp.operation}.")
    hint_pl = f" Oczekiwano statusu {want_status}." if give_answer else ""
    hint_en = f" Expected status {want_status}." if give_answer else ""
    expect(rsp.status == want_status,
           pl=f"{what_pl}: status odpowiedzi {rsp.status} jest inny niż w blkback.{hint_pl} "
              f"Ostatnie kroki: {_log_tail(be)}",
           en=f"{what}: response status {rsp.status} differs from blkback's.{hint_en} "
              f"Last steps: {_log_tail(be)}")
    expect(not left,
           pl=f"{what_pl}: po odpowiedzi zostały odwzorowania: {', '.join(left)}. Każde odwzorowane "
              f"uprawnienie trzeba zwolnić, także gdy żądanie kończy się błędem.",
           en=f"{what}: mappings were left after the response: {', '.join(left)}. Every mapped grant "
              f"must be released, also when the request fails.")
    if got[0] != want[0]:
        bad = next(i for i in range(len(want[0])) if got[0][i] != want[0][i]) // SECTOR
        fail(pl=f"{what_pl}: obraz dysku różni się od wyniku blkback (pierwszy różny sektor: {bad}).",
             en=f"{what}: the disk image differs from blkback's result (first differing sector: {bad}).")
    for ref in want[1]:
        if got[1][ref] != want[1][ref]:
            fail(pl=f"{what_pl}: strona gościa udostępniona jako gref {ref} różni się od wyniku blkback.",
                 en=f"{what}: the guest page granted as gref {ref} differs from blkback's result.")
    return rsp.status


def bench_check(fn):
    """Run a check body with a fresh Bench, cleaning the image up afterwards."""
    def check(ctx):
        bench = Bench(ctx.rng)
        try:
            fn(ctx, bench)
        finally:
            bench.close()
    check.__name__ = fn.__name__
    check.__doc__ = fn.__doc__
    return check


@EX.check(points=1, function="handle_request", timeout=SLOW,
          title={"pl": "odczyt jednego segmentu", "en": "a one-segment read"})
@bench_check
def read_one(ctx, bench):
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 3, [(bench.grant(False), 0, 7)]))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, [(bench.grant(False), 2, 4)]))


@EX.check(points=2, function="handle_request", timeout=SLOW,
          title={"pl": "zapis kilku segmentów, bajt w bajt w pliku obrazu",
                 "en": "a multi-segment write, byte for byte in the image file"})
@bench_check
def write_many(ctx, bench):
    compare(ctx, bench, bench.good(B.BLKIF_OP_WRITE, 3))
    compare(ctx, bench, bench.request(B.BLKIF_OP_WRITE, 1, [(bench.grant(True), 5, 7), (bench.grant(True), 0, 0),
                                                              (bench.grant(True), 3, 6)]))


@EX.check(points=1, function="handle_request", timeout=SLOW,
          title={"pl": "zły odnośnik uprawnienia (grant reference)", "en": "a bad grant reference"})
@bench_check
def bad_gref(ctx, bench):
    never_granted = 2000
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, [(bench.grant(False), 0, 7), (never_granted, 0, 7)]))
    other = bench.grant(False, to=7)              # granted, but to another domain
    compare(ctx, bench, bench.request(B.BLKIF_OP_WRITE, 2, [(bench.grant(True), 0, 7), (other, 0, 3)]))


@EX.check(points=1, function="handle_request", timeout=SLOW,
          title={"pl": "sektory poza końcem dysku", "en": "sectors beyond the end of the disk"})
@bench_check
def beyond_disk(ctx, bench):
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, bench.sectors - 2, [(bench.grant(False), 0, 7)]))
    compare(ctx, bench, bench.request(B.BLKIF_OP_WRITE, bench.sectors, [(bench.grant(True), 0, 0)]))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, bench.sectors - 8, [(bench.grant(False), 0, 7)]))


@EX.check(points=1, function="handle_request", timeout=SLOW,
          title={"pl": "zapis na dysk tylko do odczytu", "en": "a write to a read-only disk"})
@bench_check
def readonly_disk(ctx, bench):
    compare(ctx, bench, bench.good(B.BLKIF_OP_WRITE, 2), readonly_disk=True)
    compare(ctx, bench, bench.good(B.BLKIF_OP_READ, 2), readonly_disk=True)


@EX.check(points=1, function="handle_request", timeout=SLOW,
          title={"pl": "zła operacja, liczba segmentów albo zakres sektorów",
                 "en": "a bad operation, segment count or sector range"})
@bench_check
def malformed(ctx, bench):
    g = bench.grant(False)
    compare(ctx, bench, bench.request(7, 0, [(g, 0, 7)]))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, []))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, [(g, 0, 7)] * 11, nr=12))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, [(g, 5, 3)]))
    compare(ctx, bench, bench.request(B.BLKIF_OP_READ, 0, [(g, 0, 8)]))


@EX.check(points=1, function="handle_request", hidden=True, timeout=SLOW,
          title={"pl": "jedenaście segmentów", "en": "eleven segments"})
@bench_check
def eleven(ctx, bench):
    compare(ctx, bench, bench.good(B.BLKIF_OP_WRITE, 11, sector=0), give_answer=True)
    compare(ctx, bench, bench.good(B.BLKIF_OP_READ, 11, sector=0), give_answer=True)


def random_request(bench: Bench):
    rng = bench.rng
    kind = int(rng.integers(0, 10))
    op = int(rng.choice([B.BLKIF_OP_READ, B.BLKIF_OP_WRITE]))
    req = bench.good(op, int(rng.integers(1, 5)))
    if kind == 0:
        req.operation = int(rng.choice([2, 3, 5, 200]))
    elif kind == 1:
        req.seg[int(rng.integers(0, len(req.seg)))].gref = int(rng.choice([2000, 2047, 4096, 9]))
    elif kind == 2:
        req.sector_number = bench.sectors - int(rng.integers(0, 3))
    elif kind == 3:
        s = req.seg[-1]
        s.first_sect, s.last_sect = int(rng.integers(1, 8)), 0
    elif kind == 4 and op == B.BLKIF_OP_WRITE:
        # A front end that granted a write's page writable is fine; one that granted a read's
        # page read-only is not (the back end must write into it).
        req.seg[0].gref = bench.grant(readonly=False)
    elif kind == 4:
        req.seg[0].gref = bench.grant(readonly=True)
    return req, kind == 5


@EX.check(points=3, function="handle_request", hidden=True, timeout=SLOW,
          title={"pl": "losowe żądania dobrej i złośliwej części frontowej",
                 "en": "random requests from a good and a misbehaving front end"})
@bench_check
def random_requests(ctx, bench):
    for _ in range(25):
        req, ro = random_request(bench)
        compare(ctx, bench, req, readonly_disk=ro, give_answer=True)

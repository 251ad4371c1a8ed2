"""Exercises 10 and 10b on the live model.

``disk_run(handle_request)``: a guest with a read-write and a read-only virtual disk on image files;
dom0's blkback serves every READ/WRITE request through the student's handler (``BlkbackIO``,
synchronously) while the guest writes, reads back, and, acting as a misbehaving front end, puts bad
requests straight on the ring. One line per I/O: the status the guest got, blkback's answer, and
whether the data and the image are right.
``grant_rows(map_grant_ref)``: a few real GNTTABOP_map_grant_ref calls between dom0 and two guests,
Xen's status and flags next to the student's.
Nothing here raises because of the student's code.
"""
from __future__ import annotations

import pathlib
import tempfile

from xenlab.grading.runner import CheckTimeout, call_with_timeout
from xenlab.i18n import t
from xenlab.i18n.narration import say
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io import blkif as B

TIMEOUT_S = 2.0
def _problem_of(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return t("viz.exercise.not_written")
    if isinstance(exc, CheckTimeout):
        return t("viz.exercise.timeout", s=TIMEOUT_S)
    return f"{type(exc).__name__}: {exc}"


# -- ex10 ------------------------------------------------------------------------------------------------
def plug_handler(machine, handle_request) -> list:
    """Make dom0's blkback serve READ/WRITE (and unknown operations) with ``handle_request``.
    Returns the list the served requests are recorded into: (request, responses, problem,
    mappings the handler left behind)."""
    from xenlab.dom0.blkreq import BlkbackIO
    from xenlab.toolstack.devices import devices
    bb = devices(machine).blkback
    model_dispatch = bb.dispatch
    served: list = []

    def dispatch(blkif, req):
        if req.operation == B.BLKIF_OP_PROBE:
            return model_dispatch(blkif, req)
        be = BlkbackIO(machine, blkif.domid, blkif.image, blkif.sectors, blkif.readonly,
                       respond=lambda i, o, s: bb.make_response(blkif, i, o, s))
        problem = None
        try:
            call_with_timeout(handle_request, TIMEOUT_S, be, req)
        except BaseException as exc:            # the student's bug (or a loop), shown not raised
            problem = _problem_of(exc)
        left = len(be.mapped)
        for page in list(be.mapped.values()):   # keep the machine sane for the next request
            be.unmap(page)
        served.append((req, list(be.responses), problem, left))
    bb.dispatch = dispatch                       # an instance attribute: only this machine's blkback
    return served


def _raw(vbd, m, req) -> None:
    """A misbehaving front end: a request written straight onto the ring, then the event."""
    vbd.ring.produce_request(req)
    if vbd.ring.push_requests_and_check_notify():
        vbd.notify()
    m.run_for(2_000_000)


def disk_run(handle_request, seed: int = 0) -> str:
    import xenlab
    from xenlab.guest.gnttab import guest_grants
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="xenlab-ex10-"))
    rw, ro = tmp / "rw.img", tmp / "ro.img"
    rw.write_bytes(bytes(i % 253 for i in range(512 * 128)))
    ro.write_bytes(bytes(i % 241 for i in range(512 * 64)))
    m = xenlab.Machine(memory_mb=64, seed=seed)
    d = m.create_domain(xenlab.DomainConfig(name="ex10", memory=16,
                                            disk=[f"file:{rw},xvda,w", f"file:{ro},xvdb,r"]))
    served = plug_handler(m, handle_request)
    a, b = d.kernel.vbds["xvda"], d.kernel.vbds["xvdb"]
    image = bytearray(rw.read_bytes())
    ro_image = ro.read_bytes()
    data = bytes((31 * i + 7) % 256 for i in range(512 * 24))
    rows = []

    def io_row(label, io, want, check_data=None):
        m.run_for(3_000_000)
        got = io.status if io.done else None
        ok = got == want and (check_data is None or check_data())
        rows.append((label, got, want, ok))

    w = a.write(10, data)
    image[10 * 512: 34 * 512] = data
    io_row("xvda WRITE 24 sectors at 10", w, B.BLKIF_RSP_OKAY, lambda: rw.read_bytes() == bytes(image))
    r = a.read(10, 24)
    io_row("xvda READ 24 sectors at 10", r, B.BLKIF_RSP_OKAY,
           lambda: r.data == data == rw.read_bytes()[10 * 512:34 * 512])
    io_row("xvda READ 4 sectors at 126 (past the end)", a.read(126, 4), B.BLKIF_RSP_ERROR,
           lambda: rw.read_bytes() == bytes(image))
    io_row("xvdb WRITE 8 sectors (read-only disk)", b.write(0, data[:4096]), B.BLKIF_RSP_ERROR,
           lambda: ro.read_bytes() == ro_image)
    r2 = b.read(60, 4)
    io_row("xvdb READ 4 sectors at 60", r2, B.BLKIF_RSP_OKAY, lambda: r2.data == ro_image[60 * 512:64 * 512])
    # The misbehaving front end: requests that blkfront would never build.
    k = d.kernel
    page = d.p2m[k.alloc_page()]
    good_ref = guest_grants(k).grant_foreign_access(0, page)
    for label, req in [
            ("raw READ with gref 2000 (never granted)",
             B.BlkifRequest(B.BLKIF_OP_READ, 1, 0, 1001, 0, [B.BlkifRequestSegment(2000, 0, 7)])),
            ("raw READ with nr_segments 0", B.BlkifRequest(B.BLKIF_OP_READ, 0, 0, 1002, 0, [])),
            ("raw READ first_sect 6 > last_sect 2",
             B.BlkifRequest(B.BLKIF_OP_READ, 1, 0, 1003, 0, [B.BlkifRequestSegment(good_ref, 6, 2)])),
            ("raw operation 9", B.BlkifRequest(9, 1, 0, 1004, 0, [B.BlkifRequestSegment(good_ref, 0, 7)]))]:
        before = len(served)
        _raw(a, m, req)
        rsps = [rsp for _, rs, _, _ in served[before:] for rsp in rs if rsp.id == req.id]
        got = rsps[0].status if len(rsps) == 1 else None
        rows.append((label, got, B.BLKIF_RSP_ERROR, got == B.BLKIF_RSP_ERROR and rw.read_bytes() == bytes(image)))
    left = sum(n for _, _, _, n in served)
    word = {k: t(f"viz.exercise.{k}") for k in ("agree", "differs", "yours")}
    lines = [f"{word['agree'] if ok else word['differs']:8s} {say(label):44s} {word['yours']}="
             f"{t('viz.ex10.no_answer') if got is None else got!s:16s} blkback={want}"
             for label, got, want, ok in rows]
    problems = list(dict.fromkeys(p for _, _, p, _ in served if p))
    if left > 0:
        lines.append(t("viz.ex10.left", n=left))
    if problems:
        lines.append(t("viz.ex10.problems"))
        lines += ["  " + p for p in problems]
    for f in (rw, ro):
        f.unlink()
    tmp.rmdir()
    return "\n".join(lines)


# -- ex10b -----------------------------------------------------------------------------------------------
def grant_rows(map_grant_ref, seed: int = 0) -> str:
    """Real map_grant_ref calls on a machine with dom0, d1 (a) and d2 (b); Xen's answer and yours."""
    from xenlab.grading.mapcase import GrantLab
    lab = GrantLab(seed)
    H, RO, P, PRO = G.GNTMAP_host_map, G.GNTMAP_readonly, G.GTF_permit_access, G.GTF_readonly
    cases = [
        ("dom0 maps a's page read-write", lab.case(0, 12, H, 1, P, 0, lab.page[1])),
        ("b maps a's read-only grant read-only", lab.case(2, 13, H | RO, 1, P | PRO, 2, lab.page[1])),
        ("b maps a's read-only grant read-write", lab.case(2, 14, H, 1, P | PRO, 2, lab.page[1])),
        ("b maps an entry a made for dom0", lab.case(2, 15, H, 1, P, 0, lab.page[1])),
        ("dom0 maps ref 4096", lab.case(0, 4096, H, 1, P, 0, lab.page[1])),
        ("a maps its own entry", lab.case(1, 16, H, 1, P, 1, lab.page[1])),
        ("dom0 maps from domain 9", lab.case(0, 17, H, 9, P, 0, lab.page[1])),
        ("dom0 maps, maptrack full", lab.case(0, 18, H, 1, P, 0, lab.page[1], maptrack_full=True)),
        ("dom0 maps an accept_transfer entry", lab.case(0, 19, H, 1, G.GTF_accept_transfer, 0, lab.page[1])),
        ("dom0 maps a frame a does not own", lab.case(0, 20, H, 1, P, 0, lab.page[2])),
        ("dom0 maps with neither host_map nor device_map", lab.case(0, 21, RO, 1, P, 0, lab.page[1])),
    ]
    lines = []
    word = {k: t(f"viz.exercise.{k}") for k in ("agree", "differs", "yours", "xen")}
    for label, case in cases:
        xen = lab.xen(case)
        try:
            got = call_with_timeout(map_grant_ref, TIMEOUT_S, case)
            problem = None
        except BaseException as exc:
            got, problem = None, _problem_of(exc)
        ok = problem is None and isinstance(got, tuple) and tuple(got) == xen
        yours = problem if problem else (f"{G.GNTST_NAMES.get(got[0], got[0])}, {got[1]:#x}"
                                         if isinstance(got, tuple) and len(got) == 2
                                         and all(isinstance(x, int) for x in got) else repr(got))
        lines.append(f"{word['agree'] if ok else word['differs']:8s} {say(label):48s} {word['yours']}={yours:28s} "
                     f"{word['xen']}={G.GNTST_NAMES[xen[0]]}, {xen[1]:#x}")
    return "\n".join(lines)

"""blkback: dom0's half of the virtual block device (linux-2.6-xen-sparse/drivers/xen/blkback, Xen 3.0).

One ``Blkif`` per virtual disk: it maps the ring page the guest granted, binds the guest's event
channel, and serves the requests it finds there from a disk image file on the host
(``disk = ['file:/path/img,xvda,w']``). A request names up to 11 granted pages; blkback maps them
(``GNTTABOP_map_grant_ref``), lets the disk move the sectors between the image and the pages, unmaps
them and answers in the request's slot. Batches are taken whole from the ring and put in sector
order (an elevator), so answers may come back in another order than the requests: the guest matches
them by ``id``.

Checks on each request, in 3.0's order, each answered with BLKIF_RSP_ERROR (the ring goes on):
unknown operation; ``nr_segments`` 0 or above 11; a segment with ``last_sect`` past the page or
before ``first_sect``; a grant that does not map; a write to a read-only disk or a sector range past
the end of the image (``vbd_translate``). A producer index more than a ring ahead of what blkback
answered is not a request at all: as modern blkback (RING_REQUEST_PROD_OVERFLOW) it logs
"Frontend provided bogus ring requests" and stops serving that ring for good.

Xen 2.0's ``BLKIF_OP_PROBE`` is served too: it fills the granted page with one ``vdisk_t`` per virtual
disk of the guest and answers with their number.

Simplifications:
- The disk is a queue served one request at a time, ``DISK_REQUEST_NS + nr_sectors *
  DISK_SECTOR_NS`` each, by a timer; the image file is read and written when a request completes.
  The file is opened per request (no open file objects, so a machine can be deep-copied).
- The hotplug script is not modelled: the probe writes ``hotplug-status = connected`` itself (what
  /etc/xen/scripts/block writes once it found the image), which is what xend waits for.

The handshake runs on watches (guest/xenbus.py ``XenbusProbe``): dom0's back-end bus probes a new
``backend/vbd/<domid>/<devid>`` directory (-> InitWait) and watches the front end's state; when it
reads Initialised, ``connect_ring`` maps the ring and binds the channel (-> Connected). A front end
that says Initialised without a usable ``ring-ref``/``event-channel`` gets ``xenbus_dev_fatal``: the
error in ``/local/domain/0/error/backend/vbd/<domid>/<devid>/error`` and state Closing, nothing mapped.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from xenlab.dom0.xenbus import read_state, xenbus_dev_fatal, xenbus_switch_state
from xenlab.dom0 import gntmap
from xenlab.xen.public import errno as E
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io import blkif as B
from xenlab.xen.public.io.ring import BackRing
from xenlab.xen.public.io.xenbus import XenbusState
from xenlab.xen.public.io.xs_wire import is_error
from xenlab.hw.clock import PRIO_DEFAULT

from xenlab.hw.disk import DISK_REQUEST_NS, DISK_SECTOR_NS  # noqa: E402  (the disk's timing)
PAGE_SECTORS = B.SECTORS_PER_PAGE
MAX_PENDING_REQS = 64             # blkback's pending_req pool (3.0); past it, requests wait (VBD_OO)


@dataclass
class VbdStats:
    """What xentop shows per VBD (VBD_OO, VBD_RD, VBD_WR) and a little more."""
    rd_req: int = 0
    wr_req: int = 0
    oo_req: int = 0               # times the ring was found full of work (out of requests)
    rd_sect: int = 0
    wr_sect: int = 0
    err_req: int = 0
    probe_req: int = 0
    notify_sent: int = 0          # responses pushes that sent an event
    notify_held: int = 0          # pushes held off by rsp_event


@dataclass
class PendingReq:
    """A request between dispatch and completion: its mapped pages, in segment order."""
    req: B.BlkifRequest
    handles: list[int]
    sectors: list[tuple[int, int]]     # (first_sect, last_sect) per segment


@dataclass
class Blkif:
    domid: int
    devid: int
    backend_path: str
    frontend_path: str
    image: str = ""
    readonly: bool = False
    sectors: int = 0
    vdev: int = 0
    ring: BackRing | None = None
    ring_handle: int = -1
    port: int = 0
    broken: bool = False
    stats: VbdStats = field(default_factory=VbdStats)
    log: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.domid, self.devid)

    @property
    def otherend_path(self) -> str:
        return self.frontend_path

    def __repr__(self) -> str:
        mode = "r" if self.readonly else "w"
        conn = f"port {self.port}" if self.ring else "not connected"
        return (f"<Blkif d{self.domid} vbd {self.devid} {self.image!r} {mode} {self.sectors} sectors, {conn}"
                f"{' BROKEN' if self.broken else ''}>")


class Blkback:
    """The block backend driver of dom0, serving every guest's virtual disks."""

    def __init__(self, machine):
        self.machine = machine
        self.blkifs: dict[tuple[int, int], Blkif] = {}
        self.disk_queue: list[tuple[tuple[int, int], PendingReq]] = []
        self.disk_busy = False
        self.disk_timer = machine.timers.init_timer("blkback.disk", self._disk_done, None, 0, PRIO_DEFAULT)

    @property
    def xs(self):
        """dom0's kernel connection to xenstored (its xenbus), not xend's."""
        return self.machine.xend.xenstored.kernel_conn

    def _hc(self, name, *args) -> int:
        return self.machine.dom0.hypercall(name, *args)

    def _log(self, blkif: Blkif, msg: str) -> None:
        blkif.log.append(msg)
        self.machine.trace.emit("IO", "blkback_log", domid=blkif.domid, devid=blkif.devid, msg=msg)

    # -- xenbus: probe and connect (driven by the back-end bus's watches) -------------------------------
    def _switch(self, blkif: Blkif, new: XenbusState) -> None:
        xenbus_switch_state(self.xs, blkif.backend_path, new, trace=self.machine.trace, who="blkback")

    def _fatal(self, blkif: Blkif, err: int, msg: str) -> None:
        self._log(blkif, msg)
        xenbus_dev_fatal(self.xs, blkif.backend_path, err, msg, trace=self.machine.trace, who="blkback")

    def probe(self, bus, nodename: str, otherend: str) -> Blkif | None:
        """blkback_probe: read params/mode, look at the image, go InitWait."""
        xs = self.xs
        domid, devid = (int(x) for x in nodename.rsplit("/", 2)[1:])
        blkif = Blkif(domid, devid, nodename, otherend)
        blkif.image = xs.read(f"{nodename}/params")
        blkif.readonly = xs.read(f"{nodename}/mode") == "r"
        num = xs.read(f"{nodename}/dev-num")
        blkif.vdev = int(num) if isinstance(num, str) and num.isdigit() else devid
        try:
            blkif.sectors = os.path.getsize(blkif.image) // B.SECTOR_SIZE
        except (OSError, TypeError):
            self._fatal(blkif, -E.ENOENT, f"opening {blkif.image}")
            return None
        self.blkifs[blkif.key] = blkif
        xs.write(f"{nodename}/hotplug-status", "connected")
        self._switch(blkif, XenbusState.InitWait)
        return blkif

    def otherend_changed(self, bus, blkif: Blkif, state: XenbusState) -> None:
        """3.0.0 blkback ``frontend_changed``."""
        if self.blkifs.get(blkif.key) is not blkif:
            return                                  # already removed (the domain died)
        if state == XenbusState.Initialised and blkif.ring is None:
            if self.connect(blkif) == 0:
                self._switch(blkif, XenbusState.Connected)
        elif state == XenbusState.Closing:
            self.disconnect(blkif)
            self._switch(blkif, XenbusState.Closing)
            self._switch(blkif, XenbusState.Closed)
        elif state in (XenbusState.Unknown, XenbusState.InitWait):
            self._fatal(blkif, -E.EINVAL, f"saw state {int(state)} at frontend")

    def gone(self, blkif) -> bool:
        """Torn down by the toolstack (the domain died) before the bus saw its directory go."""
        return self.blkifs.get(blkif.key) is not blkif

    def remove_device(self, bus, blkif: Blkif) -> None:
        if self.blkifs.get(blkif.key) is blkif:
            self.disconnect(self.blkifs.pop(blkif.key))

    def connect(self, blkif: Blkif) -> int:
        """Map the ring, bind the event channel, publish the disk's size (3.0 blkback connect)."""
        xs, fe = self.xs, blkif.frontend_path
        raw = [xs.read(f"{fe}/ring-ref"), xs.read(f"{fe}/event-channel")]
        if any(is_error(r) for r in raw):                   # xenbus_gather failed
            self._fatal(blkif, -E.ENOENT, f"reading {fe}/ring-ref and event-channel")
            return -E.ENOENT
        if not all(r.strip().isdigit() for r in raw):
            self._fatal(blkif, -E.EINVAL, f"reading {fe}/ring-ref and event-channel")
            return -E.EINVAL
        ring_ref, evtchn = (int(r) for r in raw)
        op = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=ring_ref & 0xFFFFFFFF, dom=blkif.domid)
        gntmap.map_grant_refs(self.machine, [op])
        if op.status != G.GNTST_okay:
            self._log(blkif, f"failed to map ring-ref {ring_ref}: {G.GNTST_NAMES[op.status]}")
            self._fatal(blkif, op.status, f"mapping ring-ref {ring_ref} port {evtchn}")
            return op.status
        bind = ev.evtchn_bind_interdomain(remote_dom=blkif.domid, remote_port=evtchn)
        rc = self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_interdomain, bind))
        if rc < 0:
            self._unmap([op.handle])
            self._fatal(blkif, rc, f"mapping ring-ref {ring_ref} port {evtchn}")
            return rc
        page = gntmap.page(self.machine, op.handle)
        sring = B.new_blkif_sring(self.machine.memory, page.maddr, init=False,
                                  on_event=functools.partial(self._ring_event, blkif.key))
        blkif.ring, blkif.ring_handle, blkif.port = BackRing(sring), op.handle, bind.local_port
        self.machine.dom0.kernel.port_handlers[bind.local_port] = functools.partial(self._on_event, blkif.key)
        be = blkif.backend_path
        xs.write(f"{be}/sectors", str(blkif.sectors))
        xs.write(f"{be}/info", str(B.VDISK_READONLY if blkif.readonly else 0))
        xs.write(f"{be}/sector-size", str(B.SECTOR_SIZE))
        return 0

    def disconnect(self, blkif: Blkif) -> None:
        """Unmap everything of this disk and close the channel (before the guest's frames go)."""
        for key, p in [q for q in self.disk_queue if q[0] == blkif.key]:
            self._unmap(p.handles)
        self.disk_queue = [q for q in self.disk_queue if q[0] != blkif.key]
        if blkif.ring is not None:
            self._unmap([blkif.ring_handle])
            self.machine.dom0.kernel.port_handlers.pop(blkif.port, None)
            self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_close, ev.evtchn_close(blkif.port)))
            blkif.ring, blkif.ring_handle, blkif.port = None, -1, 0

    def remove(self, domid: int) -> None:
        for key in [k for k in self.blkifs if k[0] == domid]:
            self.disconnect(self.blkifs.pop(key))

    def _ring_event(self, key, name: str, **payload) -> None:
        trace = self.machine.trace
        if trace.active:
            trace.emit("IO", f"blkif_{name}", domid=key[0], devid=key[1], **payload)

    # -- the request loop -----------------------------------------------------------------------------
    def _on_event(self, key, v, port: int) -> None:
        blkif = self.blkifs.get(key)
        if blkif is not None:
            self.do_block_io_op(blkif)

    def do_block_io_op(self, blkif: Blkif) -> int:
        """Take every request the ring holds, check and dispatch them, sorted by sector."""
        ring = blkif.ring
        if ring is None or blkif.broken:
            return 0
        taken = 0
        while True:
            rp = ring.sring.req_prod
            if ring.request_prod_overflow(rp):
                blkif.broken = True
                self._log(blkif, f"Frontend provided bogus ring requests ({rp} - {ring.rsp_prod_pvt} = "
                                 f"{(rp - ring.rsp_prod_pvt) & 0xFFFFFFFF}). Halting ring processing on "
                                 f"dev={blkif.vdev:04x}")
                return taken
            batch = []
            while ring.has_unconsumed_requests():
                if len(self.disk_queue) + len(batch) >= MAX_PENDING_REQS:
                    blkif.stats.oo_req += 1        # no free pending_req: resume when the disk answers
                    break
                batch.append(ring.consume_request())
            if not batch and ring.has_unconsumed_requests():
                return taken
            if not batch:
                if not ring.final_check_for_requests():
                    return taken
                continue
            taken += len(batch)
            # The elevator: serve in sector order, whatever order the guest queued them in.
            for req in sorted(batch, key=lambda r: (r.sector_number, r.id)):
                self.dispatch(blkif, req)

    def dispatch(self, blkif: Blkif, req: B.BlkifRequest) -> None:
        st = blkif.stats
        if req.operation == B.BLKIF_OP_PROBE:
            st.probe_req += 1
            return self._probe(blkif, req)
        if req.operation not in (B.BLKIF_OP_READ, B.BLKIF_OP_WRITE):
            self._log(blkif, f"error: unknown block io operation [{req.operation}]")
            return self._fail(blkif, req)
        write = req.operation == B.BLKIF_OP_WRITE
        if write:
            st.wr_req += 1
        else:
            st.rd_req += 1
        if not 1 <= req.nr_segments <= B.BLKIF_MAX_SEGMENTS_PER_REQUEST:
            self._log(blkif, f"Bad number of segments in request ({req.nr_segments})")
            return self._fail(blkif, req)
        sectors = []
        for s in req.seg:
            if s.last_sect >= PAGE_SECTORS or s.last_sect < s.first_sect:
                self._log(blkif, f"bad segment sectors {s.first_sect}..{s.last_sect}")
                return self._fail(blkif, req)
            sectors.append((s.first_sect, s.last_sect))
        handles = self._map_segments(blkif, req, readonly=write)
        if handles is None:
            return self._fail(blkif, req)
        nsect = sum(b - a + 1 for a, b in sectors)
        # vbd_translate: read-only disks refuse writes; nothing past the end of the image.
        if write and blkif.readonly:
            self._unmap(handles)
            self._log(blkif, "write to a read-only vbd")
            return self._fail(blkif, req)
        if req.sector_number + nsect > blkif.sectors:
            self._unmap(handles)
            self._log(blkif, f"access beyond end of device: sector {req.sector_number}+{nsect} "
                             f"> {blkif.sectors}")
            return self._fail(blkif, req)
        self.disk_queue.append((blkif.key, PendingReq(req, handles, sectors)))
        self._kick_disk()

    def _map_segments(self, blkif: Blkif, req, readonly: bool) -> list[int] | None:
        flags = G.GNTMAP_host_map | (G.GNTMAP_readonly if readonly else 0)
        ops = [G.GnttabMapGrantRef(flags=flags, ref=s.gref, dom=blkif.domid) for s in req.seg]
        gntmap.map_grant_refs(self.machine, ops)
        bad = [op for op in ops if op.status != G.GNTST_okay]
        if bad:
            self._unmap([op.handle for op in ops if op.status == G.GNTST_okay])
            self._log(blkif, f"invalid grant reference {bad[0].ref}: {G.GNTST_NAMES[bad[0].status]}")
            return None
        return [op.handle for op in ops]

    def _unmap(self, handles: list[int]) -> None:
        if handles:
            gntmap.unmap_grant_refs(self.machine, list(handles))

    def _fail(self, blkif: Blkif, req) -> None:
        blkif.stats.err_req += 1
        self.make_response(blkif, req.id, req.operation, B.BLKIF_RSP_ERROR)

    def make_response(self, blkif: Blkif, rid: int, op: int, status: int) -> None:
        ring = blkif.ring
        ring.produce_response(B.BlkifResponse(id=rid, operation=op, status=status))
        if ring.push_responses_and_check_notify():
            blkif.stats.notify_sent += 1
            self._hc("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(blkif.port)))
        else:
            blkif.stats.notify_held += 1

    # -- PROBE (Xen 2.0) ----------------------------------------------------------------------------------
    def vdisks_of(self, domid: int) -> list[B.VdiskT]:
        out = []
        for (d, _), b in sorted(self.blkifs.items()):
            if d == domid:
                info = B.VDISK_TYPE_DISK | B.VDISK_FLAG_VIRT | (B.VDISK_FLAG_RO if b.readonly else 0)
                out.append(B.VdiskT(capacity=b.sectors, device=b.vdev & 0xFFFF, info=info))
        return out

    def _probe(self, blkif: Blkif, req) -> None:
        if req.nr_segments != 1:
            return self._fail(blkif, req)
        handles = self._map_segments(blkif, req, readonly=False)
        if handles is None:
            return self._fail(blkif, req)
        page = gntmap.page(self.machine, handles[0])
        disks = self.vdisks_of(blkif.domid)
        size = B.VdiskT.sizeof()
        fit = (4096 - req.seg[0].first_sect * B.SECTOR_SIZE) // size
        disks = disks[:fit]
        page.write(req.seg[0].first_sect * B.SECTOR_SIZE, b"".join(v.pack() for v in disks))
        self._unmap(handles)
        self.make_response(blkif, req.id, req.operation, len(disks))

    # -- the disk ------------------------------------------------------------------------------------------
    def _kick_disk(self) -> None:
        if self.disk_busy or not self.disk_queue:
            return
        self.disk_busy = True
        nsect = sum(b - a + 1 for a, b in self.disk_queue[0][1].sectors)
        self.machine.timers.set_timer(self.disk_timer,
                                      self.machine.now + DISK_REQUEST_NS + nsect * DISK_SECTOR_NS)

    def _disk_done(self, _data) -> None:
        self.disk_busy = False
        key, p = self.disk_queue.pop(0)
        blkif = self.blkifs.get(key)
        if blkif is not None and blkif.ring is not None:
            status = self._transfer(blkif, p)
            self._unmap(p.handles)
            self.make_response(blkif, p.req.id, p.req.operation, status)
        for other in list(self.blkifs.values()):   # requests left waiting for a free pending_req
            self.do_block_io_op(other)
        self._kick_disk()

    def _transfer(self, blkif: Blkif, p: PendingReq) -> int:
        """Move the sectors between the image file and the mapped pages (bio completion)."""
        offset = p.req.sector_number * B.SECTOR_SIZE
        pages = [gntmap.page(self.machine, h) for h in p.handles]
        write = p.req.operation == B.BLKIF_OP_WRITE
        try:
            with open(blkif.image, "r+b" if write else "rb") as f:
                for page, (a, b) in zip(pages, p.sectors):
                    n = (b - a + 1) * B.SECTOR_SIZE
                    f.seek(offset)
                    if write:
                        f.write(page.read(a * B.SECTOR_SIZE, n))
                    else:
                        page.write(a * B.SECTOR_SIZE, f.read(n).ljust(n, b"\0"))
                    offset += n
        except OSError as exc:
            self._log(blkif, f"I/O error on {blkif.image}: {exc}")
            return B.BLKIF_RSP_ERROR
        nsect = sum(b - a + 1 for a, b in p.sectors)
        if write:
            blkif.stats.wr_sect += nsect
        else:
            blkif.stats.rd_sect += nsect
        return B.BLKIF_RSP_OKAY

"""blkfront: the guest's half of the virtual block device (linux-2.6-xen-sparse/drivers/xen/blkfront).

At connection time the driver takes a page for the ring, grants it to the back end, allocates an
event channel for it, writes ``ring-ref`` and ``event-channel`` into its XenStore directory in one
transaction and says Initialised; once the back end is Connected it reads ``sectors``, ``info`` and
``sector-size`` and is Connected too (xen-facts section 12).

An I/O (``read``, ``write``, ``probe``) becomes one or more ring requests of at most 11 segments;
each segment is one page of the guest, granted to the back end (read-only for a write, since the
back end only reads it) and covering sectors ``first_sect..last_sect`` of it. Requests are produced
in a batch and pushed once: ``push_requests_and_check_notify`` decides whether the back end needs an
event. Responses may come back in any order; ``id`` names the shadow entry of the request.

Simplifications:
- Every segment covers whole sectors from the start of its page (Linux packs bio segments too).
- When the ring is full, requests wait in a software queue (Linux stops the block queue).
- The data of a read is copied out of the guest's pages into ``IoRequest.data`` for Python to see.
"""
from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field

from xenlab.guest.xenbus import emit_state, publish, read_state, xenbus_switch_state
from xenlab.xen.public.io.xs_wire import is_error
from xenlab.guest.gnttab import guest_grants
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public.io import blkif as B
from xenlab.xen.public.io.ring import FrontRing
from xenlab.xen.public.io.xenbus import XenbusState
from xenlab.xen.public.xen import DOMID_SELF

SECTOR = B.SECTOR_SIZE
PER_PAGE = B.SECTORS_PER_PAGE
MAX_SEGS = B.BLKIF_MAX_SEGMENTS_PER_REQUEST


@dataclass
class IoRequest:
    """One I/O as the guest asked for it (it may take several ring requests)."""
    op: int
    sector: int
    nr_sectors: int
    data: bytes = b""                 # WRITE: what to write; READ: filled on completion
    status: int | None = None         # BLKIF_RSP_* (the worst of its parts); PROBE: the count
    parts_left: int = 0
    submitted_at: int = 0
    completed_at: int | None = None
    vdisks: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.completed_at is not None

    def __repr__(self) -> str:
        op = B.BLKIF_OP_NAMES.get(self.op, self.op)
        st = "pending" if not self.done else f"status {self.status}"
        return f"<IoRequest {op} sector {self.sector} x{self.nr_sectors} {st}>"


@dataclass
class Shadow:
    """blkfront's copy of an in-flight ring request: what to undo and where the data goes."""
    req: B.BlkifRequest
    io: IoRequest
    pfns: list[int]
    offset: int                       # byte offset of this part in io.data


class Blkfront:
    """One virtual disk of the guest (``/local/domain/<domU>/device/vbd/<devid>``)."""

    def __init__(self, kernel, devid: int, name: str):
        self.kernel = kernel
        self.devid = devid
        self.name = name              # xvda, hda ...
        self.nodename = f"device/vbd/{devid}"
        d = kernel.d
        self.xs = d.xs
        self.backend = self.xs.read(f"{self.nodename}/backend")
        self.backend_id = int(self.xs.read(f"{self.nodename}/backend-id"))
        self.ring: FrontRing | None = None
        self.ring_ref = -1
        self.ring_pfn = -1
        self.port = 0
        self.sectors = 0
        self.info = 0
        self.sector_size = SECTOR
        self.shadow: dict[int, Shadow] = {}
        self.free_ids: list[int] = []
        self.waiting: deque = deque()          # (BlkifRequest, Shadow) waiting for ring space
        self.nr_completed = 0
        self.notify_sent = 0
        self.notify_held = 0

    @property
    def d(self):
        return self.kernel.d

    @property
    def machine(self):
        return self.kernel.d.machine

    @property
    def state(self) -> XenbusState:
        return read_state(self.xs, self.nodename)

    def __repr__(self) -> str:
        return (f"<Blkfront d{self.d.domain_id} {self.name} (vbd {self.devid}) {self.state.name}, "
                f"{self.sectors} sectors{' ro' if self.readonly else ''}>")

    @property
    def readonly(self) -> bool:
        return bool(self.info & B.VDISK_READONLY)

    # -- xenbus ------------------------------------------------------------------------------------------
    def _switch(self, new: XenbusState) -> None:
        xenbus_switch_state(self.xs, self.nodename, new, trace=self.machine.trace, who="blkfront")

    def backend_changed(self, state: XenbusState | None = None) -> None:
        """3.0.0 blkfront ``backend_changed`` (the otherend watch fired): connect when the back end is
        Connected, close when it is Closing; every other state is nothing to do."""
        state = read_state(self.xs, self.backend) if state is None else state
        if state == XenbusState.Connected and self.ring is not None and self.state != XenbusState.Connected:
            self.sectors = int(self.xs.read(f"{self.backend}/sectors"))
            self.info = int(self.xs.read(f"{self.backend}/info"))
            self.sector_size = int(self.xs.read(f"{self.backend}/sector-size"))
            self._switch(XenbusState.Connected)
        elif state == XenbusState.Closing and self.state not in (XenbusState.Closing, XenbusState.Closed):
            self._switch(XenbusState.Closing)        # blkfront_closing: the back end is going away
        elif state == XenbusState.Closed and self.state != XenbusState.Closed:
            self.free_ring()
            self._switch(XenbusState.Closed)

    def free_ring(self) -> None:
        """blkif_free: the back end unmapped the ring; revoke its grant, close the channel, free the page."""
        k = self.kernel
        if self.ring is None:
            return
        guest_grants(k).end_foreign_access(self.ring_ref)
        k.port_handlers.pop(self.port, None)
        k.hypercall(self.d.vcpus[0], "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_close, ev.evtchn_close(self.port)))
        k.free_page(self.ring_pfn)
        self.ring, self.ring_ref, self.ring_pfn, self.port = None, -1, -1, 0

    def setup_ring(self) -> None:
        """talk_to_backend (run at probe in 3.0.0): grant a ring page, allocate an event channel,
        publish both in one transaction and go Initialised."""
        k, d = self.kernel, self.d
        self.ring_pfn = k.alloc_page()
        mfn = d.kernel.p2m[self.ring_pfn]
        sring = B.new_blkif_sring(self.machine.memory, mfn << 12,
                                  on_event=functools.partial(self._ring_event))
        self.ring = FrontRing(sring)
        self.free_ids = list(range(self.ring.nr_ents - 1, -1, -1))
        self.ring_ref = guest_grants(k).grant_foreign_access(self.backend_id, mfn)
        alloc = ev.evtchn_alloc_unbound(dom=DOMID_SELF, remote_dom=self.backend_id)
        rc = k.hypercall(d.vcpus[0], "event_channel_op", ev.evtchn_op(ev.EVTCHNOP_alloc_unbound, alloc))
        if rc < 0:
            raise RuntimeError(f"{self.name}: EVTCHNOP_alloc_unbound failed: {rc}")
        self.port = alloc.port
        k.port_handlers[self.port] = functools.partial(self._on_event)

        old = self.state
        result = publish(self.xs, self.nodename, (("ring-ref", self.ring_ref), ("event-channel", self.port)),
                         XenbusState.Initialised)
        if is_error(result):
            raise RuntimeError(f"{self.name}: writing ring-ref/event-channel failed: {result}")
        emit_state(self.machine.trace, self.xs, "blkfront", self.nodename, old, XenbusState.Initialised)

    def _ring_event(self, name: str, **payload) -> None:
        trace = self.machine.trace
        if trace.active:
            trace.emit("IO", f"blkfront_{name}", domid=self.d.domain_id, devid=self.devid, **payload)

    # -- I/O -------------------------------------------------------------------------------------------------
    def read(self, sector: int, nr_sectors: int) -> IoRequest:
        return self.submit(B.BLKIF_OP_READ, sector, nr_sectors)

    def write(self, sector: int, data: bytes) -> IoRequest:
        if len(data) % SECTOR:
            raise ValueError(f"a write is whole {SECTOR}-byte sectors, got {len(data)} bytes")
        return self.submit(B.BLKIF_OP_WRITE, sector, len(data) // SECTOR, bytes(data))

    def probe(self) -> IoRequest:
        """Xen 2.0's BLKIF_OP_PROBE: ask the back end for its list of virtual disks."""
        return self.submit(B.BLKIF_OP_PROBE, 0, PER_PAGE)

    def submit(self, op: int, sector: int, nr_sectors: int, data: bytes = b"") -> IoRequest:
        """Queue an I/O as ring requests and push them in one batch."""
        if self.ring is None or self.state != XenbusState.Connected:
            raise RuntimeError(f"{self.name} is not connected ({self.state.name})")
        if nr_sectors <= 0:
            raise ValueError("an I/O moves at least one sector")
        io = IoRequest(op, sector, nr_sectors, data, submitted_at=self.machine.now)
        per_req = MAX_SEGS * PER_PAGE
        done = 0
        while done < nr_sectors:
            n = min(per_req, nr_sectors - done)
            self.waiting.append((op, sector + done, n, io, done * SECTOR))
            io.parts_left += 1
            done += n
        self.flush()
        return io

    def _build(self, op, sector, n, io, offset) -> tuple[B.BlkifRequest, Shadow]:
        k = self.kernel
        grants = guest_grants(k)
        mem = self.machine.memory
        segs, pfns = [], []
        for i in range(0, n, PER_PAGE):
            cnt = min(PER_PAGE, n - i)
            pfn = k.alloc_page()
            mfn = self.d.kernel.p2m[pfn]
            if op == B.BLKIF_OP_WRITE:
                chunk = io.data[offset + i * SECTOR: offset + (i + cnt) * SECTOR]
                mem.write_bytes(mfn << 12, chunk)
            ref = grants.grant_foreign_access(self.backend_id, mfn, readonly=(op == B.BLKIF_OP_WRITE))
            segs.append(B.BlkifRequestSegment(ref, 0, cnt - 1))
            pfns.append(pfn)
        rid = self.free_ids.pop()
        req = B.BlkifRequest(op, len(segs), self.devid & 0xFFFF, rid, sector, segs)
        return req, Shadow(req, io, pfns, offset)

    def flush(self) -> int:
        """Produce as many waiting requests as the ring takes, push once, notify if asked to."""
        ring = self.ring
        produced = 0
        while self.waiting and not ring.full() and self.free_ids:
            req, sh = self._build(*self.waiting.popleft())
            self.shadow[req.id] = sh
            ring.produce_request(req)
            produced += 1
        if produced:
            if ring.push_requests_and_check_notify():
                self.notify_sent += 1
                self.notify()
            else:
                self.notify_held += 1
        return produced

    def notify(self) -> None:
        self.kernel.hypercall(self.d.vcpus[0], "event_channel_op",
                              ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(self.port)))

    def _on_event(self, v, port: int) -> None:
        """blkif_int: consume every response, re-arm with the final check, refill the ring."""
        ring = self.ring
        if ring is None:
            return
        while True:
            while ring.has_unconsumed_responses():
                if ring.response_prod_overflow(ring.sring.rsp_prod):
                    return                         # a broken back end: stop listening to it
                self._complete(ring.consume_response())
            if not ring.final_check_for_responses():
                break
        self.flush()

    def _complete(self, rsp: B.BlkifResponse) -> None:
        sh = self.shadow.pop(rsp.id, None)
        if sh is None:
            return                                 # an id we never sent: ignore it
        k, mem, grants = self.kernel, self.machine.memory, guest_grants(self.kernel)
        io = sh.io
        if sh.req.operation == B.BLKIF_OP_PROBE and rsp.status >= 0:
            raw = mem.read_bytes(self.d.kernel.p2m[sh.pfns[0]] << 12, 4096)
            size = B.VdiskT.sizeof()
            io.vdisks = [B.VdiskT.unpack(raw[i * size:(i + 1) * size]) for i in range(rsp.status)]
        elif sh.req.operation == B.BLKIF_OP_READ and rsp.status == B.BLKIF_RSP_OKAY:
            data = bytearray(io.data.ljust(io.nr_sectors * SECTOR, b"\0"))
            off = sh.offset
            for pfn, seg in zip(sh.pfns, sh.req.seg):
                n = seg.nr_sects * SECTOR
                data[off:off + n] = mem.read_bytes((self.d.kernel.p2m[pfn] << 12) + seg.first_sect * SECTOR, n)
                off += n
            io.data = bytes(data)
        for pfn, seg in zip(sh.pfns, sh.req.seg):
            grants.end_foreign_access(seg.gref)
            k.free_page(pfn)
        self.free_ids.append(rsp.id)
        if sh.req.operation == B.BLKIF_OP_PROBE or io.status is None:
            io.status = rsp.status
        else:
            io.status = min(io.status, rsp.status)       # one failed part fails the whole I/O
        io.parts_left -= 1
        if io.parts_left == 0:
            io.completed_at = self.machine.now
            self.nr_completed += 1
            self.machine.trace.emit("IO", "blk_done", domid=self.d.domain_id, devid=self.devid,
                                    op=B.BLKIF_OP_NAMES.get(io.op, io.op), sector=io.sector,
                                    nr_sectors=io.nr_sectors, status=io.status,
                                    latency_ns=io.completed_at - io.submitted_at)

    def close(self) -> None:
        if self.state not in (XenbusState.Closing, XenbusState.Closed):
            self._switch(XenbusState.Closing)


def vbd_name(vdevice: int) -> str:
    """The Linux name of a virtual-device number: 202*256 -> xvda, 3*256 -> hda, 8*256+16 -> sdb."""
    major, minor = vdevice >> 8, vdevice & 0xFF
    if major == 202:
        name, part = "xvd" + chr(ord("a") + (minor >> 4)), minor & 15
    elif major == 8:
        name, part = "sd" + chr(ord("a") + (minor >> 4)), minor & 15
    else:
        ide = {3: 0, 22: 2, 33: 4, 34: 6, 56: 8}.get(major, 0)
        name, part = "hd" + chr(ord("a") + ide + (minor >> 6)), minor & 63
    return name + (str(part) if part else "")


class BlkfrontDriver:
    """The xenbus driver "vbd" of the guest's front-end bus (blkfront_driver)."""

    def probe(self, bus, nodename: str, otherend: str):
        """blkfront_probe: read virtual-device, then talk_to_backend at once (3.0.0)."""
        k = bus.kernel
        vdev = k.d.xs.read(f"{nodename}/virtual-device")
        if is_error(vdev) or not vdev.strip().isdigit():
            return None
        front = Blkfront(k, int(nodename.rsplit("/", 1)[1]), vbd_name(int(vdev)))
        front.otherend_path = otherend
        k.__dict__.setdefault("vbds", {})[front.name] = front
        front.setup_ring()
        return front

    def otherend_changed(self, bus, front, state) -> None:
        front.backend_changed(state)

    def remove_device(self, bus, front) -> None:
        vbds = bus.kernel.__dict__.get("vbds", {})
        if vbds.get(front.name) is front:
            del vbds[front.name]

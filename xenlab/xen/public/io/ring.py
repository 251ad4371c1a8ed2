"""Shared I/O descriptor rings: Xen's ``xen/include/public/io/ring.h`` as Python.

Models ``io/ring.h`` as shipped with Xen 4.17 (interface 0x00040e00, Debian ``libxen-dev``), which is
the RELEASE-3.0.0 header plus the modern macros.  One shared page holds four free-running 32-bit
indices (``req_prod, req_event, rsp_prod, rsp_event``), padding to byte 64 and an array of entries,
each a union of one request and one response.  Each end keeps its private indices in its own memory:
the front end ``req_prod_pvt, rsp_cons`` (``FrontRing``), the back end ``rsp_prod_pvt, req_cons``
(``BackRing``).  Methods are named after the macros (``RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`` is
``push_requests_and_check_notify``) and follow the modern semantics: the HAS_UNCONSUMED tests return
counts, ``RING_FULL`` is ``RING_FREE_REQUESTS == 0``.  A differential test runs them against the C
macros (tests/io/test_ring_differential.py).

The hold-off rule: a producer notifies only if its push moved the producer index past the event
index the consumer asked to be woken at, i.e. ``event`` lies in ``(old, new]`` modulo 2**32.

Simplifications:
- Memory barriers (xen_mb/xen_wmb) are no-ops: the model is single-threaded.
- The shared page is 4096 bytes; the 4-byte ``pvt`` union (netif smartpoll) is part of the zeroed pad.
- ``SharedRing`` remembers which ``FrontRing``/``BackRing`` attached to it, so ``regions()`` can see
  both private halves; a real shared page knows nothing of either end.
- Misuse of the Python API (consuming from an empty ring, producing into a full one, answering a
  request that was never consumed) raises ``RingError``; the C macros would silently corrupt the ring.
- Trace events go to an optional ``on_event(name, **payload)`` callback, not to the machine's bus.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xenlab.xen.public.cstruct import StructLayout

RING_IDX_MASK = 0xFFFF_FFFF  # RING_IDX is a 32-bit unsigned int; arithmetic wraps at 2**32
PAGE_SIZE = 4096             # ring protocols always use 4 KiB pages (XEN_PAGE_SHIFT 12)
SRING_HEADER_SIZE = 64       # offsetof(struct NAME_sring, ring): 4 indices + pvt + __pad[44]
# Byte offsets of the shared indices in the page (struct NAME_sring).
OFF_REQ_PROD, OFF_REQ_EVENT, OFF_RSP_PROD, OFF_RSP_EVENT = 0, 4, 8, 12
# The header as RELEASE-3.0.0's DEFINE_RING_TYPES lays it out (uint8_t pad[48]; 4.17 splits the same
# 48 bytes into the 4-byte pvt union and __pad[44]).  Checked against gcc in tests/xen/test_struct_layouts.py.
SRING_HEADER = StructLayout("sring_header", [
    ("req_prod", "RING_IDX"), ("req_event", "RING_IDX"), ("rsp_prod", "RING_IDX"), ("rsp_event", "RING_IDX"),
    ("pad", "uint8_t", 48)])

REGION_NAMES = ("request", "outstanding", "response", "unused")


class RingError(ValueError):
    """Misuse of a ring through the Python API; the ring is left unchanged."""


def rd32(x: int) -> int:
    """``__RD32``: round a 32-bit value down to a power of two (0 stays 0)."""
    x &= RING_IDX_MASK
    return 0 if x == 0 else 1 << (x.bit_length() - 1)


def ring_size(page_size: int = PAGE_SIZE, header_size: int = SRING_HEADER_SIZE,
              entry_size: int = 8) -> int:
    """``__RING_SIZE``: how many entries of ``entry_size`` bytes fit after the header, rounded down
    to a power of two (so ``idx & (size - 1)`` addresses a slot)."""
    if entry_size <= 0 or page_size < header_size:
        raise RingError(f"bad ring geometry: page {page_size}, header {header_size}, entry {entry_size}")
    return rd32((page_size - header_size) // entry_size)


def _u32(value: int, what: str) -> int:
    value = int(value)
    if not 0 <= value <= RING_IDX_MASK:
        raise RingError(f"{what} must be a 32-bit unsigned index (0..2**32-1), got {value}")
    return value


# -- what a slot's bytes mean: codecs for the two members of the entry union ---------------------
class IntCodec:
    """A little-endian unsigned integer of ``size`` bytes (raw payloads for exercises and tests)."""

    def __init__(self, size: int = 8):
        self.size = int(size)

    def encode(self, value) -> bytes:
        value = int(value)
        if not 0 <= value < 1 << (8 * self.size):
            raise RingError(f"payload {value} does not fit in {self.size} bytes")
        return value.to_bytes(self.size, "little")

    def decode(self, raw: bytes) -> int:
        return int.from_bytes(raw[:self.size], "little")


class BytesCodec:
    """Raw bytes, at most ``size`` of them; shorter payloads are zero-padded."""

    def __init__(self, size: int = 8):
        self.size = int(size)

    def encode(self, value) -> bytes:
        value = bytes(value)
        if len(value) > self.size:
            raise RingError(f"payload of {len(value)} bytes does not fit in {self.size} bytes")
        return value.ljust(self.size, b"\0")

    def decode(self, raw: bytes) -> bytes:
        return bytes(raw[:self.size])


class StructCodec:
    """A dataclass with ``pack(arch)``/``unpack(raw, arch)`` and ``sizeof(arch)`` (blkif, netif)."""

    def __init__(self, cls, arch: str = "x86_32"):
        self.cls, self.arch = cls, arch
        self.size = cls.sizeof(arch)

    def encode(self, value) -> bytes:
        if not isinstance(value, self.cls):
            raise RingError(f"this ring carries {self.cls.__name__}, not {type(value).__name__}")
        return value.pack(self.arch)

    def decode(self, raw: bytes):
        return self.cls.unpack(raw[:self.size], self.arch)


def codec_for(spec, entry_size: int | None = None, arch: str = "x86_32"):
    """Turn a codec spec into a codec: None/int -> IntCodec, bytes -> BytesCodec, a struct class ->
    StructCodec; an object that already has encode/decode/size is used as it is."""
    if spec is None or spec is int:
        return IntCodec(entry_size or 8)
    if spec is bytes:
        return BytesCodec(entry_size or 8)
    if hasattr(spec, "encode") and hasattr(spec, "decode") and hasattr(spec, "size"):
        return spec
    if hasattr(spec, "unpack") and hasattr(spec, "sizeof"):
        return StructCodec(spec, arch)
    raise TypeError(f"not a ring codec: {spec!r}")


class SharedRing:
    """``struct NAME_sring``: the page both ends share, living in real bytes.

    ``SharedRing(32)`` owns a private 4096-byte page; ``SharedRing(memory=m, maddr=a)`` lives in
    machine memory at ``a``.  ``req_codec``/``rsp_codec`` say how a slot's bytes become Python values:
    ``None`` (little-endian unsigned ints), ``bytes``, an ``IntCodec``/``BytesCodec`` or a dataclass
    with ``pack()``/``unpack()`` (blkif, netif).  ``init=False`` attaches to a page someone else set up.
    """

    def __init__(self, nr_ents: int | None = None, *, memory=None, maddr: int | None = None,
                 entry_size: int | None = None, req_codec=None, rsp_codec=None,
                 page_size: int = PAGE_SIZE, init: bool = True, on_event=None,
                 arch: str = "x86_32"):
        if (memory is None) != (maddr is None):
            raise RingError("give both memory and maddr, or neither")
        self.req_codec = codec_for(req_codec, entry_size, arch)
        self.rsp_codec = codec_for(rsp_codec, entry_size, arch)
        # The entry is a union: as big as the larger of its two members.
        self.entry_size = int(entry_size or max(self.req_codec.size, self.rsp_codec.size))
        if max(self.req_codec.size, self.rsp_codec.size) > self.entry_size:
            raise RingError(f"request/response of {self.req_codec.size}/{self.rsp_codec.size} bytes "
                            f"do not fit an entry of {self.entry_size} bytes")
        fit = ring_size(page_size, SRING_HEADER_SIZE, self.entry_size)
        if nr_ents is None:
            nr_ents = fit
        nr_ents = int(nr_ents)
        if nr_ents <= 0 or nr_ents & (nr_ents - 1) or nr_ents > fit:
            raise RingError(f"nr_ents must be a power of two <= {fit} (what fits a {page_size}-byte "
                            f"page with {self.entry_size}-byte entries), got {nr_ents}")
        self.nr_ents = nr_ents
        self.page_size = page_size
        self.memory = memory
        if memory is None:
            self._own = np.zeros(page_size, dtype=np.uint8)  # a private page: SharedRing(32) standalone
            self.maddr = 0
        else:
            self._own = None
            self.maddr = int(maddr)
            memory.read_bytes(self.maddr, page_size)  # check the whole page exists before using it
        self.on_event = on_event
        self.front = None  # set by FrontRing/BackRing: the model's view of both private halves
        self.back = None
        if init:
            self.shared_ring_init()

    # -- bytes ---------------------------------------------------------------------------------
    @property
    def page(self) -> np.ndarray:
        """The shared page as a numpy uint8 view (writable)."""
        data = self._own if self.memory is None else self.memory.data
        return data[self.maddr:self.maddr + self.page_size]

    def _get32(self, off: int) -> int:
        data = self._own if self.memory is None else self.memory.data
        a = self.maddr + off
        return int.from_bytes(data[a:a + 4].tobytes(), "little")

    def _set32(self, off: int, value: int) -> None:
        data = self._own if self.memory is None else self.memory.data
        a = self.maddr + off
        data[a:a + 4] = np.frombuffer((value & RING_IDX_MASK).to_bytes(4, "little"), np.uint8)

    def slot_offset(self, idx: int) -> int:
        """Byte offset in the page of the entry that index ``idx`` addresses (``idx & (size-1)``)."""
        return SRING_HEADER_SIZE + (idx & (self.nr_ents - 1)) * self.entry_size

    def slot_bytes(self, idx: int) -> bytes:
        o = self.slot_offset(idx)
        return self.page[o:o + self.entry_size].tobytes()

    def _write_slot(self, idx: int, raw: bytes) -> None:
        o = self.slot_offset(idx)
        self.page[o:o + len(raw)] = np.frombuffer(raw, dtype=np.uint8)

    # -- the four shared indices, assignable (e.g. to start near 2**32) -------------------------
    req_prod = property(lambda s: s._get32(OFF_REQ_PROD),
                        lambda s, v: s._set32(OFF_REQ_PROD, _u32(v, "req_prod")))
    req_event = property(lambda s: s._get32(OFF_REQ_EVENT),
                         lambda s, v: s._set32(OFF_REQ_EVENT, _u32(v, "req_event")))
    rsp_prod = property(lambda s: s._get32(OFF_RSP_PROD),
                        lambda s, v: s._set32(OFF_RSP_PROD, _u32(v, "rsp_prod")))
    rsp_event = property(lambda s: s._get32(OFF_RSP_EVENT),
                         lambda s, v: s._set32(OFF_RSP_EVENT, _u32(v, "rsp_event")))

    def shared_ring_init(self) -> None:
        """``SHARED_RING_INIT``: producers 0, both event indices 1 (wake on the first message), pad 0."""
        self.page[:SRING_HEADER_SIZE] = 0
        self._set32(OFF_REQ_EVENT, 1)
        self._set32(OFF_RSP_EVENT, 1)
        self._emit("shared_ring_init")

    def _emit(self, name: str, **payload) -> None:
        if self.on_event is not None:
            self.on_event(name, **payload)

    def regions(self) -> RingRegions:
        """Each slot's state, from the attached front and back ends (see ``regions``)."""
        if self.front is None or self.back is None:
            raise RingError("regions() needs both a FrontRing and a BackRing attached to this ring")
        return regions(self.front, self.back)

    def __repr__(self) -> str:
        where = "private page" if self.memory is None else f"maddr {self.maddr:#x}"
        return (f"<SharedRing {self.nr_ents} x {self.entry_size} B ({where}) req_prod={self.req_prod} "
                f"req_event={self.req_event} rsp_prod={self.rsp_prod} rsp_event={self.rsp_event}>")


class _RingEnd:
    """What FrontRing and BackRing share: ``nr_ents``, ``sring``, 32-bit private indices."""

    _PVT: tuple[str, str] = ()

    def __init__(self, sring: SharedRing, index: int = 0):
        self.sring = sring
        self.nr_ents = sring.nr_ents  # *_RING_INIT: nr_ents = __RING_SIZE(s, size)
        index = _u32(index, "index")
        for name in self._PVT:  # *_RING_ATTACH(_r, _s, _i): both private indices start at _i
            setattr(self, name, index)
        self.notifications = 0       # pushes that told the other end (an event would be sent)
        self.notifications_held = 0  # pushes that published work but were held off by the event index

    def __setattr__(self, name, value):
        if name in self._PVT:
            value = _u32(value, name)
        object.__setattr__(self, name, value)

    def size(self) -> int:
        """``RING_SIZE``."""
        return self.nr_ents

    def regions(self) -> RingRegions:
        return self.sring.regions()

    def get_request(self, idx: int):
        """``RING_GET_REQUEST`` (a copy, as ``RING_COPY_REQUEST``) of the slot ``idx`` addresses."""
        return self.sring.req_codec.decode(self.sring.slot_bytes(idx))

    def get_response(self, idx: int):
        """``RING_GET_RESPONSE`` (a copy, as ``RING_COPY_RESPONSE``)."""
        return self.sring.rsp_codec.decode(self.sring.slot_bytes(idx))

    def _push(self, off: int, new: int, side: str, what: str, check: bool) -> bool:
        s = self.sring
        old = s._get32(off)
        s._set32(off, new)                     # xen_wmb(); sring->X_prod = X_prod_pvt; xen_mb();
        notify = False
        if check:
            event = s._get32(off + 4)          # X_event follows X_prod in the page
            notify = ((new - event) & RING_IDX_MASK) < ((new - old) & RING_IDX_MASK)
            if notify:
                self.notifications += 1
            elif new != old:
                self.notifications_held += 1
        s._emit(f"push_{what}", side=side, old=old, new=new, notify=notify, checked=check)
        return notify


class FrontRing(_RingEnd):
    """``struct NAME_front_ring``: the front end (the guest's driver) produces requests and
    consumes responses.  ``FrontRing(sring, index)`` is ``FRONT_RING_ATTACH`` (index 0: ``_INIT``)."""

    _PVT = ("req_prod_pvt", "rsp_cons")

    def __init__(self, sring: SharedRing, index: int = 0):
        super().__init__(sring, index)
        sring.front = self

    def free_requests(self) -> int:
        """``RING_FREE_REQUESTS``: slots the front end may still fill."""
        return (self.nr_ents - (self.req_prod_pvt - self.rsp_cons)) & RING_IDX_MASK

    def full(self) -> bool:
        """``RING_FULL`` (modern): no free request slot.  Up to RING_SIZE requests may be in flight."""
        return self.free_requests() == 0

    def produce_request(self, req) -> int:
        """Write ``req`` into slot ``req_prod_pvt`` and advance it (not yet visible: push next).
        Returns the index used."""
        free = self.free_requests()
        if free == 0 or free > self.nr_ents:
            raise RingError(f"front ring is full ({self.req_prod_pvt - self.rsp_cons & RING_IDX_MASK}"
                            f" of {self.nr_ents} requests in flight): consume responses first")
        raw = self.sring.req_codec.encode(req)
        idx = self.req_prod_pvt
        self.sring._write_slot(idx, raw)
        self.req_prod_pvt = (idx + 1) & RING_IDX_MASK
        self.sring._emit("produce_request", side="front", idx=idx, slot=idx & (self.nr_ents - 1))
        return idx

    def push_requests(self) -> None:
        """``RING_PUSH_REQUESTS``: publish ``req_prod = req_prod_pvt``; never notifies."""
        self._push(OFF_REQ_PROD, self.req_prod_pvt, "front", "requests", check=False)

    def push_requests_and_check_notify(self) -> bool:
        """``RING_PUSH_REQUESTS_AND_CHECK_NOTIFY``: publish, then True iff ``req_event`` lies in
        ``(old req_prod, new req_prod]``: the back end asked to be woken inside this batch."""
        return self._push(OFF_REQ_PROD, self.req_prod_pvt, "front", "requests", check=True)

    def has_unconsumed_responses(self) -> int:
        """``RING_HAS_UNCONSUMED_RESPONSES``: a count (``rsp_prod - rsp_cons``), as in modern C."""
        return (self.sring.rsp_prod - self.rsp_cons) & RING_IDX_MASK

    def response_prod_overflow(self, prod: int) -> bool:
        """``RING_RESPONSE_PROD_OVERFLOW``: could an honest back end have produced up to ``prod``?"""
        return ((prod - self.rsp_cons) & RING_IDX_MASK) > self.nr_ents

    def consume_response(self):
        """Copy out the response at ``rsp_cons`` and advance it (frees that slot for a request)."""
        n = self.has_unconsumed_responses()
        if n == 0:
            raise RingError(f"no unconsumed responses (rsp_cons == rsp_prod == {self.rsp_cons})")
        if self.response_prod_overflow(self.sring.rsp_prod):
            raise RingError(f"rsp_prod {self.sring.rsp_prod} is more than a ring ahead of "
                            f"rsp_cons {self.rsp_cons}: ill-behaved back end")
        idx = self.rsp_cons
        rsp = self.get_response(idx)
        self.rsp_cons = (idx + 1) & RING_IDX_MASK
        self.sring._emit("consume_response", side="front", idx=idx, slot=idx & (self.nr_ents - 1))
        return rsp

    def final_check_for_responses(self) -> int:
        """``RING_FINAL_CHECK_FOR_RESPONSES``: if nothing is pending, re-arm ``rsp_event =
        rsp_cons + 1`` and look again, closing the race with a response that arrives meanwhile."""
        work = self.has_unconsumed_responses()
        if not work:
            self.sring.rsp_event = (self.rsp_cons + 1) & RING_IDX_MASK
            work = self.has_unconsumed_responses()
        self.sring._emit("final_check_for_responses", side="front", work=work,
                         rsp_event=self.sring.rsp_event)
        return work

    def __repr__(self) -> str:
        return (f"<FrontRing size={self.nr_ents} req_prod_pvt={self.req_prod_pvt} rsp_cons={self.rsp_cons}"
                f" | req_prod={self.sring.req_prod} rsp_prod={self.sring.rsp_prod}>")


class BackRing(_RingEnd):
    """``struct NAME_back_ring``: the back end (dom0's driver, or Xen) consumes requests and
    produces responses into the slots of the requests it consumed."""

    _PVT = ("rsp_prod_pvt", "req_cons")

    def __init__(self, sring: SharedRing, index: int = 0):
        super().__init__(sring, index)
        sring.back = self

    def has_unconsumed_requests(self) -> int:
        """``RING_HAS_UNCONSUMED_REQUESTS``: ``min(req_prod - req_cons, RING_SIZE - (req_cons -
        rsp_prod_pvt))``: never more requests than there is room to answer."""
        req = (self.sring.req_prod - self.req_cons) & RING_IDX_MASK
        rsp = (self.nr_ents - (self.req_cons - self.rsp_prod_pvt)) & RING_IDX_MASK
        return min(req, rsp)

    def request_cons_overflow(self, cons: int) -> bool:
        """``RING_REQUEST_CONS_OVERFLOW``: the back end's loop test, ``cons - rsp_prod_pvt >= SIZE``."""
        return ((int(cons) - self.rsp_prod_pvt) & RING_IDX_MASK) >= self.nr_ents

    def request_prod_overflow(self, prod: int) -> bool:
        """``RING_REQUEST_PROD_OVERFLOW``: could an honest front end have produced up to ``prod``?"""
        return ((int(prod) - self.rsp_prod_pvt) & RING_IDX_MASK) > self.nr_ents

    def consume_request(self):
        """Copy out the request at ``req_cons`` (``RING_COPY_REQUEST``: the front end cannot change
        it after this) and advance ``req_cons``."""
        if self.has_unconsumed_requests() == 0:
            raise RingError(f"no unconsumed requests (req_cons={self.req_cons}, "
                            f"req_prod={self.sring.req_prod}, rsp_prod_pvt={self.rsp_prod_pvt})")
        idx = self.req_cons
        req = self.get_request(idx)
        self.req_cons = (idx + 1) & RING_IDX_MASK
        self.sring._emit("consume_request", side="back", idx=idx, slot=idx & (self.nr_ents - 1))
        return req

    def produce_response(self, rsp) -> int:
        """Write ``rsp`` into slot ``rsp_prod_pvt`` (the slot of the oldest consumed, unanswered
        request) and advance it.  Returns the index used."""
        if self.rsp_prod_pvt == self.req_cons:
            raise RingError(f"no consumed request left to answer (rsp_prod_pvt == req_cons == "
                            f"{self.req_cons})")
        raw = self.sring.rsp_codec.encode(rsp)
        idx = self.rsp_prod_pvt
        self.sring._write_slot(idx, raw)
        self.rsp_prod_pvt = (idx + 1) & RING_IDX_MASK
        self.sring._emit("produce_response", side="back", idx=idx, slot=idx & (self.nr_ents - 1))
        return idx

    def push_responses(self) -> None:
        """``RING_PUSH_RESPONSES``: publish ``rsp_prod = rsp_prod_pvt``; never notifies."""
        self._push(OFF_RSP_PROD, self.rsp_prod_pvt, "back", "responses", check=False)

    def push_responses_and_check_notify(self) -> bool:
        """``RING_PUSH_RESPONSES_AND_CHECK_NOTIFY``: publish; True iff ``rsp_event`` is in
        ``(old rsp_prod, new rsp_prod]``."""
        return self._push(OFF_RSP_PROD, self.rsp_prod_pvt, "back", "responses", check=True)

    def final_check_for_requests(self) -> int:
        """``RING_FINAL_CHECK_FOR_REQUESTS``: if idle, re-arm ``req_event = req_cons + 1`` and
        re-test, so a request pushed meanwhile is not missed."""
        work = self.has_unconsumed_requests()
        if not work:
            self.sring.req_event = (self.req_cons + 1) & RING_IDX_MASK
            work = self.has_unconsumed_requests()
        self.sring._emit("final_check_for_requests", side="back", work=work,
                         req_event=self.sring.req_event)
        return work

    def __repr__(self) -> str:
        return (f"<BackRing size={self.nr_ents} rsp_prod_pvt={self.rsp_prod_pvt} req_cons={self.req_cons}"
                f" | req_prod={self.sring.req_prod} rsp_prod={self.sring.rsp_prod}>")


@dataclass
class RingRegions:
    """Per-slot states (``slots[i]`` for slot ``i``) and how many slots are in each region.
    Unpacks as ``states, counts = ring.regions()``."""
    slots: list[str]
    counts: dict[str, int]

    def __iter__(self):
        return iter((self.slots, self.counts))


def regions(front: FrontRing, back: BackRing) -> RingRegions:
    """The four regions of SOSP'03 Fig. 2, walking forward from ``rsp_cons`` with the *shared*
    producers (what the other end can see):

    response queue ``[rsp_cons, rsp_prod)``, outstanding ``[rsp_prod, req_cons)``,
    request queue ``[req_cons, req_prod)``, unused ``[req_prod, rsp_cons + SIZE)``.
    Requests produced but not pushed count as unused until the push publishes them."""
    size = front.nr_ents
    s = front.sring
    start = front.rsp_cons
    bounds = [(s.rsp_prod - start) & RING_IDX_MASK,         # end of the response queue
              (back.req_cons - start) & RING_IDX_MASK,      # end of the outstanding region
              (s.req_prod - start) & RING_IDX_MASK]         # end of the request queue
    if not bounds[0] <= bounds[1] <= bounds[2] <= size:
        raise RingError(f"indices break rsp_cons <= rsp_prod <= req_cons <= req_prod <= rsp_cons+size: "
                        f"rsp_cons={start} rsp_prod={s.rsp_prod} req_cons={back.req_cons} "
                        f"req_prod={s.req_prod} size={size}")
    slots = ["unused"] * size
    counts = dict.fromkeys(REGION_NAMES, 0)
    begin = 0
    for name, end in zip(("response", "outstanding", "request"), bounds):
        counts[name] = end - begin
        for k in range(begin, end):
            slots[(start + k) & (size - 1)] = name
        begin = end
    counts["unused"] = size - bounds[2]
    return RingRegions(slots, counts)

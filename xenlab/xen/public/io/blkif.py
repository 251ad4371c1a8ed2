"""Virtual block device interface: Xen's ``xen/include/public/io/blkif.h``.

Models RELEASE-3.0.0's blkif (requests of up to 11 segments of 512-byte sectors named by grant
references, one shared ring per device), plus Xen 2.0's ``BLKIF_OP_PROBE`` and its ``vdisk_t`` reply
(RELEASE-2.0.0 io/blkif.h), which the course shows next to 3.0's discovery through XenStore.  Structs
pack to the x86_32 layout by default (``arch="x86_64"`` for the other); tests compare both with gcc.

Simplifications:
- Only the 3.0 request; discard and indirect requests of later Xens are constants only.
- ``vdisk_t`` (2.0) is packed with the 3.0-era 64-bit sector count; PROBE here is an op code next to
  grant-based segments, not 2.0's machine-address ``frame_and_sects`` encoding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from xenlab.xen.public.grant_table import CStruct, StructLayout
from xenlab.xen.public.io.ring import SRING_HEADER_SIZE, SharedRing, ring_size

BLKIF_OP_READ = 0
BLKIF_OP_WRITE = 1
BLKIF_OP_PROBE = 2            # Xen 2.0 only: list the virtual disks into the segment pages
BLKIF_OP_WRITE_BARRIER = 2    # modern reuse of the number (feature-barrier)
BLKIF_OP_FLUSH_DISKCACHE = 3
BLKIF_OP_RESERVED_1 = 4
BLKIF_OP_DISCARD = 5
BLKIF_OP_INDIRECT = 6
BLKIF_OP_NAMES = {0: "READ", 1: "WRITE", 2: "PROBE"}  # the names this course's Xen 3.0 ring uses

# "Could be 12 if the ring indexes weren't stored in the same page" (blkif.h).
BLKIF_MAX_SEGMENTS_PER_REQUEST = 11
BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8

BLKIF_RSP_EOPNOTSUPP = -2
BLKIF_RSP_ERROR = -1
BLKIF_RSP_OKAY = 0

SECTOR_SIZE = 512              # bytes; first_sect/last_sect count these within a 4 KiB frame
SECTORS_PER_PAGE = 4096 // SECTOR_SIZE

# The XenStore "info" key of a vbd (3.0 and later).
VDISK_CDROM = 0x1
VDISK_REMOVABLE = 0x2
VDISK_READONLY = 0x4

# Xen 2.0 vdisk_t.info: a type in the low bits, then flags.
VDISK_TYPE_FLOPPY = 0x00
VDISK_TYPE_TAPE = 0x01
VDISK_TYPE_CDROM = 0x05
VDISK_TYPE_OPTICAL = 0x07
VDISK_TYPE_DISK = 0x20
VDISK_TYPE_MASK = 0x3F
VDISK_FLAG_RO = 0x40
VDISK_FLAG_VIRT = 0x80


@dataclass
class BlkifRequestSegment(CStruct):
    """One page of a request: a grant reference and the inclusive sector range within it."""
    gref: int = 0
    first_sect: int = 0   # 0..7
    last_sect: int = 0    # 0..7, >= first_sect
    LAYOUT: ClassVar = StructLayout("blkif_request_segment", [
        ("gref", "grant_ref_t"), ("first_sect", "uint8_t"), ("last_sect", "uint8_t")])

    @property
    def nr_sects(self) -> int:
        return self.last_sect - self.first_sect + 1


@dataclass
class BlkifRequest(CStruct):
    """``blkif_request``: 108 bytes on x86_32 (uint64 aligned to 4), 112 on x86_64.

    ``seg`` holds the ``nr_segments`` segments in use; the rest of the 11 are packed as zeros."""
    operation: int = BLKIF_OP_READ
    nr_segments: int = 0
    handle: int = 0            # blkif_vdev_t: which virtual disk of this interface
    id: int = 0                # the guest's cookie, echoed in the response
    sector_number: int = 0     # first 512-byte sector on the disk
    seg: list[BlkifRequestSegment] = field(default_factory=list)
    LAYOUT: ClassVar = StructLayout("blkif_request", [
        ("operation", "uint8_t"), ("nr_segments", "uint8_t"), ("handle", "blkif_vdev_t"),
        ("id", "uint64_t"), ("sector_number", "blkif_sector_t"),
        ("seg", BlkifRequestSegment, BLKIF_MAX_SEGMENTS_PER_REQUEST)])

    def _values(self) -> list:
        if len(self.seg) > BLKIF_MAX_SEGMENTS_PER_REQUEST:
            raise ValueError(f"a blkif request has at most {BLKIF_MAX_SEGMENTS_PER_REQUEST} segments, "
                             f"got {len(self.seg)}")
        segs = list(self.seg) + [BlkifRequestSegment()] * (BLKIF_MAX_SEGMENTS_PER_REQUEST - len(self.seg))
        return [self.operation, self.nr_segments, self.handle, self.id, self.sector_number,
                [s._values() for s in segs]]

    @classmethod
    def _from_values(cls, values: list):
        op, nr, handle, rid, sector, segs = values
        # Keep what nr_segments claims (at most 11): a backend checks nr_segments itself.
        used = [BlkifRequestSegment._from_values(s) for s in segs[:min(nr, len(segs))]]
        return cls(op, nr, handle, rid, sector, used)

    @property
    def nr_sectors(self) -> int:
        return sum(s.nr_sects for s in self.seg)


@dataclass
class BlkifResponse(CStruct):
    """``blkif_response``: 12 bytes on x86_32, 16 on x86_64.  ``status`` is BLKIF_RSP_* (PROBE in
    2.0: the number of vdisk_t written)."""
    id: int = 0
    operation: int = 0
    status: int = BLKIF_RSP_OKAY
    LAYOUT: ClassVar = StructLayout("blkif_response", [
        ("id", "uint64_t"), ("operation", "uint8_t"), ("status", "int16_t")])


@dataclass
class VdiskT(CStruct):
    """Xen 2.0 ``vdisk_t``: one virtual disk in a PROBE reply."""
    capacity: int = 0   # in 512-byte sectors
    device: int = 0     # 16-bit device number (major << 8 | minor)
    info: int = VDISK_TYPE_DISK | VDISK_FLAG_VIRT
    LAYOUT: ClassVar = StructLayout("vdisk_t", [
        ("capacity", "blkif_sector_t"), ("device", "blkif_vdev_t"), ("info", "uint16_t")])


# The union entry is as big as the request; __RING_SIZE rounds 37 (x86_32) or 36 down to 32.
BLKIF_RING_SIZE = ring_size(4096, SRING_HEADER_SIZE,
                            max(BlkifRequest.sizeof("x86_32"), BlkifResponse.sizeof("x86_32")))


def new_blkif_sring(memory=None, maddr=None, *, arch: str = "x86_32", init: bool = True,
                    on_event=None) -> SharedRing:
    """A ``blkif_sring`` (DEFINE_RING_TYPES(blkif, ...)) in a private page or in machine memory."""
    entry = max(BlkifRequest.sizeof(arch), BlkifResponse.sizeof(arch))
    return SharedRing(memory=memory, maddr=maddr, entry_size=entry, req_codec=BlkifRequest,
                      rsp_codec=BlkifResponse, arch=arch, init=init, on_event=on_event)

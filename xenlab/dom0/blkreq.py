"""What a blkback request handler may touch, for one virtual disk: map and unmap the guest's grants,
read and write whole sectors of the disk image, answer on the ring.

``BlkbackIO`` is the narrow interface behind exercise 10: a handler written against it can serve the
requests of a live ``Blkback`` (xenlab/viz/ex10.py plugs one in) or be run alone by the checks. Every
access is checked the way the model's own blkback is bound: the guest's pages only through a grant
mapped by dom0 at a virtual address of its own (``MappedGrant``, dom0/gntmap.py: inside the page, writes only through a writable mapping) and the
image only inside the disk (``ImageAccessError`` otherwise). ``log`` records each operation, so a
check or a student can see what a handler did.

Simplifications:
- The I/O is synchronous (the model's blkback queues it on a timed disk).
- The image file is opened per access, as the model's blkback does.
"""
from __future__ import annotations

from xenlab.dom0 import gntmap
from xenlab.dom0.gntmap import MappedGrant
from xenlab.xen.public import grant_table as G
from xenlab.xen.public.io import blkif as B

SECTOR = B.SECTOR_SIZE


class ImageAccessError(PermissionError):
    """A handler tried to touch bytes outside the disk image (blkback never does)."""


class BlkbackIO:
    """One virtual disk as a request handler sees it: ``sectors``, ``readonly``, ``domid`` of the
    front end, and the operations below."""

    def __init__(self, machine, domid: int, image: str, sectors: int, readonly: bool, respond=None):
        self.machine = machine
        self.domid = domid
        self.image = str(image)
        self.sectors = int(sectors)            # disk size in 512-byte sectors
        self.readonly = bool(readonly)         # mode 'r' in the xm config
        self._respond = respond
        self.responses: list[B.BlkifResponse] = []
        self.mapped: dict[int, MappedGrant] = {}   # handle -> page, while mapped
        self.log: list[str] = []

    # -- grants --------------------------------------------------------------------------------------
    def map_grant(self, gref: int, readonly: bool) -> tuple[int, MappedGrant | None]:
        """GNTTABOP_map_grant_ref by dom0 of the front end's ``gref`` (GNTMAP_host_map, plus
        GNTMAP_readonly if ``readonly``). Returns ``(GNTST_* status, page or None)``."""
        flags = G.GNTMAP_host_map | (G.GNTMAP_readonly if readonly else 0)
        op = G.GnttabMapGrantRef(flags=flags, ref=int(gref), dom=self.domid)
        rc = gntmap.map_grant_refs(self.machine, [op])
        status = op.status if rc == 0 else G.GNTST_general_error
        self.log.append(f"map_grant(gref={gref}, readonly={bool(readonly)}) -> "
                        f"{G.GNTST_NAMES.get(status, status)}")
        if status != G.GNTST_okay:
            return status, None
        page = gntmap.page(self.machine, op.handle)
        self.mapped[op.handle] = page
        return status, page

    def unmap(self, page: MappedGrant) -> int:
        """GNTTABOP_unmap_grant_ref of a page ``map_grant`` returned; the GNTST_* status."""
        handle = getattr(page, "handle", None)
        (op,) = gntmap.unmap_grant_refs(self.machine, [handle if isinstance(handle, int) else -1])
        self.mapped.pop(handle, None)
        self.log.append(f"unmap(handle={handle}) -> {G.GNTST_NAMES.get(op.status, op.status)}")
        return op.status

    # -- the image -------------------------------------------------------------------------------------
    def _check(self, sector: int, count: int, what: str) -> None:
        if not (isinstance(sector, int) and isinstance(count, int)) or sector < 0 or count <= 0 \
                or sector + count > self.sectors:
            self.log.append(f"{what}({sector}, {count} sectors) REFUSED")
            raise ImageAccessError(f"{what}: sectors {sector}..{sector}+{count} are outside the disk "
                                   f"(0..{self.sectors - 1})")

    def read_sectors(self, sector: int, count: int) -> bytes:
        """``count`` whole sectors of the image from ``sector`` on."""
        self._check(sector, count, "read_sectors")
        with open(self.image, "rb") as f:
            f.seek(sector * SECTOR)
            data = f.read(count * SECTOR).ljust(count * SECTOR, b"\0")
        self.log.append(f"read_sectors({sector}, {count})")
        return data

    def write_sectors(self, sector: int, data: bytes) -> None:
        """Write ``data`` (whole sectors) into the image from ``sector`` on."""
        data = bytes(data)
        if len(data) % SECTOR or not data:
            self.log.append(f"write_sectors({sector}, {len(data)} bytes) REFUSED")
            raise ImageAccessError(f"write_sectors: {len(data)} bytes is not a whole number of sectors")
        self._check(sector, len(data) // SECTOR, "write_sectors")
        with open(self.image, "r+b") as f:
            f.seek(sector * SECTOR)
            f.write(data)
        self.log.append(f"write_sectors({sector}, {len(data) // SECTOR})")

    # -- the ring --------------------------------------------------------------------------------------
    def respond(self, id: int, operation: int, status: int) -> None:
        """make_response: answer request ``id`` in its slot with BLKIF_RSP_*."""
        rsp = B.BlkifResponse(id=id, operation=operation, status=status)
        self.responses.append(rsp)
        self.log.append(f"respond(id={id}, operation={operation}, status={status})")
        if self._respond is not None:
            self._respond(id, operation, status)

    def __repr__(self) -> str:
        return (f"<BlkbackIO d{self.domid} {self.image!r} {self.sectors} sectors "
                f"{'ro' if self.readonly else 'rw'}, {len(self.mapped)} mapped>")

"""Machine memory: real bytes in 4 KiB frames.

Everything Xen and its guests keep in memory (page tables, the shared_info page, grant tables, I/O
rings) lives here in its real binary layout, little-endian as on x86, so a student can dump a frame
and decode it by hand. One numpy uint8 array holds the whole machine; a machine address (maddr) is an
index into it and a machine frame number (mfn) is ``maddr >> PAGE_SHIFT``.

Simplifications:
- No caches, no memory-mapped I/O holes: every frame from 0 to nr_frames-1 is RAM.
- Accesses are not atomic in any interesting sense: the model is single-threaded.
"""
from __future__ import annotations

import struct

import numpy as np

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT  # 4096 bytes, x86 small page
PAGE_MASK = ~(PAGE_SIZE - 1)


_FORMATS = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


class MemoryAccessError(ValueError):
    """A machine address outside physical memory, or a misaligned/oversized access."""


class MachineMemory:
    """``nr_frames`` frames of 4 KiB in one numpy array (``data``)."""

    __slots__ = ("nr_frames", "data", "_mv", "_size")

    def __init__(self, nr_frames: int):
        if nr_frames <= 0:
            raise ValueError(f"nr_frames must be positive, got {nr_frames}")
        self.nr_frames = int(nr_frames)
        self.data = np.zeros(self.nr_frames * PAGE_SIZE, dtype=np.uint8)
        self._attach()

    def _attach(self) -> None:
        # Scalar accesses go through struct on a memoryview of the same bytes: several times faster
        # than slicing numpy for 1-8 byte fields, which is most of what Xen and guests touch.
        self._mv = memoryview(self.data)
        self._size = self.nr_frames * PAGE_SIZE

    def __deepcopy__(self, memo):
        clone = MachineMemory.__new__(MachineMemory)
        memo[id(self)] = clone
        clone.nr_frames = self.nr_frames
        clone.data = self.data.copy()
        clone._attach()
        return clone

    def __getstate__(self):
        return {"nr_frames": self.nr_frames, "data": self.data}

    def __setstate__(self, state):
        self.nr_frames, self.data = state["nr_frames"], state["data"]
        self._attach()

    @property
    def size(self) -> int:
        """Size in bytes."""
        return self.nr_frames * PAGE_SIZE

    def __repr__(self) -> str:
        return f"<MachineMemory {self.nr_frames} frames, {self.size >> 20} MiB>"

    # -- checks ---------------------------------------------------------------------------------
    def _check(self, maddr: int, length: int) -> int:
        maddr = int(maddr)
        if maddr < 0 or length < 0 or maddr + length > self.size:
            raise MemoryAccessError(
                f"machine address {maddr:#x}+{length} is outside physical memory "
                f"(0..{self.size:#x}, {self.nr_frames} frames)")
        return maddr

    def check_mfn(self, mfn: int) -> int:
        mfn = int(mfn)
        if not 0 <= mfn < self.nr_frames:
            raise MemoryAccessError(f"mfn {mfn:#x} is not a frame of this machine (0..{self.nr_frames - 1:#x})")
        return mfn

    # -- scalar little-endian access ------------------------------------------------------------
    def read(self, maddr: int, size: int) -> int:
        """Read an unsigned little-endian integer of ``size`` bytes (1, 2, 4 or 8)."""
        fmt = _FORMATS.get(size)
        if fmt is None or maddr < 0 or maddr + size > self._size:
            a = self._check(maddr, size)
            return int.from_bytes(self.data[a:a + size].tobytes(), "little")
        return struct.unpack_from(fmt, self._mv, maddr)[0]

    def write(self, maddr: int, size: int, value: int) -> None:
        value = int(value)
        if not 0 <= value < (1 << (8 * size)):
            # Accept negative numbers as two's complement (int16 status fields, -1 sentinels).
            if -(1 << (8 * size - 1)) <= value < 0:
                value &= (1 << (8 * size)) - 1
            else:
                self._check(maddr, size)
                raise MemoryAccessError(f"value {value:#x} does not fit in {size} bytes")
        fmt = _FORMATS.get(size)
        if fmt is None or maddr < 0 or maddr + size > self._size:
            a = self._check(maddr, size)
            self.data[a:a + size] = np.frombuffer(value.to_bytes(size, "little"), dtype=np.uint8)
            return
        struct.pack_into(fmt, self._mv, maddr, value)

    def read_u8(self, maddr: int) -> int:
        return self.read(maddr, 1)

    def read_u16(self, maddr: int) -> int:
        return self.read(maddr, 2)

    def read_u32(self, maddr: int) -> int:
        return self.read(maddr, 4)

    def read_u64(self, maddr: int) -> int:
        return self.read(maddr, 8)

    def write_u8(self, maddr: int, value: int) -> None:
        self.write(maddr, 1, value)

    def write_u16(self, maddr: int, value: int) -> None:
        self.write(maddr, 2, value)

    def write_u32(self, maddr: int, value: int) -> None:
        self.write(maddr, 4, value)

    def write_u64(self, maddr: int, value: int) -> None:
        self.write(maddr, 8, value)

    # -- bulk access ----------------------------------------------------------------------------
    def read_bytes(self, maddr: int, length: int) -> bytes:
        a = self._check(maddr, length)
        return self.data[a:a + length].tobytes()

    def write_bytes(self, maddr: int, payload: bytes) -> None:
        a = self._check(maddr, len(payload))
        self.data[a:a + len(payload)] = np.frombuffer(bytes(payload), dtype=np.uint8)

    def frame(self, mfn: int) -> np.ndarray:
        """A writable numpy view of one whole frame (4096 uint8)."""
        mfn = self.check_mfn(mfn)
        return self.data[mfn << PAGE_SHIFT:(mfn + 1) << PAGE_SHIFT]

    def clear_frame(self, mfn: int) -> None:
        self.frame(mfn)[:] = 0

    def dump(self, maddr: int, length: int = 64) -> str:
        """A hexdump, 16 bytes a line, as a student would read it."""
        raw = self.read_bytes(maddr, length)
        lines = []
        for off in range(0, len(raw), 16):
            chunk = raw[off:off + 16]
            hexes = " ".join(f"{b:02x}" for b in chunk)
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
            lines.append(f"{maddr + off:08x}  {hexes:<47}  {text}")
        return "\n".join(lines)

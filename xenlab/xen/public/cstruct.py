"""The C layout of Xen's public structs: ``StructLayout``, ``UnionLayout`` and the ``CStruct`` mixin.

Each ABI struct the model uses is described once, member by member with its C type, and its offsets,
size and byte image follow the i386 (x86_32) or x86_64 ABI.  The descriptions sit beside the
dataclasses in xen.py, arch_x86_32.py, dom0_ops.py, event_channel.py, memory.py, vcpu.py and io/;
``all_layouts()`` collects them.  tests/xen/test_struct_layouts.py compares every one, member by
member, with what gcc -m32 measures in Xen 3.0.0's headers (tests/data/xen_3_0_0_layouts.json, made
by tools/xen_layouts.py) and, for structs unchanged since, in Debian's libxen-dev headers.

A member is ``(name, ctype, count)``: ctype is a scalar name (``uint32_t``, ``unsigned long``,
``domid_t``, ``ptr`` for a pointer or guest handle, ``char`` ...), a CStruct class or a StructLayout /
UnionLayout; count > 1 makes an array.  A ``char`` array packs as one ``bytes`` value, a union as its
raw bytes (C cannot say which alternative is live, nor can the packer).

Simplifications:
- Bit-fields and flexible arrays are not described; ``ring[1]`` of a shared ring is left to io/ring.py.
"""
from __future__ import annotations

import importlib
import pkgutil
import struct
from typing import ClassVar

# C scalar -> (struct code, size, alignment on x86_32, alignment on x86_64).  The one i386 surprise:
# a uint64_t inside a struct is aligned to 4 bytes, which is why blkif_request is 108 bytes there.
_SCALARS = {
    "uint8_t": ("B", 1, 1, 1), "int8_t": ("b", 1, 1, 1), "char": ("B", 1, 1, 1),
    "uint16_t": ("H", 2, 2, 2), "int16_t": ("h", 2, 2, 2),
    "uint32_t": ("I", 4, 4, 4), "int32_t": ("i", 4, 4, 4),
    "uint64_t": ("Q", 8, 4, 8), "int64_t": ("q", 8, 4, 8),
}
_LONGS = {"x86_32": ("I", 4, 4), "x86_64": ("Q", 8, 8)}  # unsigned long, pointers, xen_pfn_t
ARCHES = ("x86_32", "x86_64")
_TYPEDEFS = {"grant_ref_t": "uint32_t", "grant_handle_t": "uint32_t", "domid_t": "uint16_t",
             "blkif_vdev_t": "uint16_t", "blkif_sector_t": "uint64_t", "unsigned int": "uint32_t",
             "int": "int32_t", "evtchn_port_t": "uint32_t", "cpumap_t": "uint64_t",
             "RING_IDX": "uint32_t", "XENCONS_RING_IDX": "uint32_t", "XENSTORE_RING_IDX": "uint32_t"}
_LONG_NAMES = ("xen_pfn_t", "ulong", "unsigned long", "handle", "ptr")


def _scalar(ctype: str, arch: str) -> tuple[str, int, int]:
    ctype = _TYPEDEFS.get(ctype, ctype)
    if ctype in _LONG_NAMES:
        return _LONGS[arch]
    code, size, a32, a64 = _SCALARS[ctype]
    return code, size, a32 if arch == "x86_32" else a64


def _layout(ctype) -> StructLayout:
    return ctype if isinstance(ctype, StructLayout) else ctype.LAYOUT


class StructLayout:
    """A C struct: ``[(name, ctype, count), ...]``.  ``inline`` marks a struct defined inside another
    (``evtchn_status.u.interdomain``): its members are listed under the outer struct's paths."""

    def __init__(self, name: str, members: list[tuple], inline: bool = False):
        self.name = name
        self.members = [(m[0], m[1], m[2] if len(m) > 2 else 1) for m in members]
        self.inline = inline
        self._cache: dict[str, tuple] = {}

    def _piece(self, ctype, count: int, arch: str) -> tuple[str, int, int]:
        """(format, size of one element, alignment) of a member."""
        if isinstance(ctype, str):
            code, size, al = _scalar(ctype, arch)
            return (f"{count}s" if ctype == "char" and count > 1 else code * count), size, al
        sub, _, size, al = _layout(ctype)._geometry(arch)
        return sub * count, size, al

    def _geometry(self, arch: str):
        """(format without byte order, {name: offset}, size, alignment) for one ABI."""
        if arch not in self._cache:
            if arch not in ARCHES:
                raise ValueError(f"arch must be one of {ARCHES}, got {arch!r}")
            fmt, offsets, off, align = [], {}, 0, 1
            for name, ctype, count in self.members:
                piece, size, al = self._piece(ctype, count, arch)
                pad = -off % al
                fmt.append("x" * pad + piece)
                off += pad
                offsets[name] = off
                off += size * count
                align = max(align, al)
            fmt.append("x" * (-off % align))
            self._cache[arch] = ("".join(fmt), offsets, off + (-off % align), align)
        return self._cache[arch]

    def sizeof(self, arch: str = "x86_32") -> int:
        return self._geometry(arch)[2]

    def offsetof(self, name: str, arch: str = "x86_32") -> int:
        return self._geometry(arch)[1][name]

    def member_size(self, name: str, arch: str = "x86_32") -> int:
        """sizeof(((T *)0)->name): the whole array for an array member."""
        for n, ctype, count in self.members:
            if n == name:
                if isinstance(ctype, str):
                    return _scalar(ctype, arch)[1] * count
                return _layout(ctype).sizeof(arch) * count
        raise KeyError(name)

    def member_table(self, arch: str = "x86_32", prefix: str = "", base: int = 0) -> dict[str, tuple[int, int]]:
        """{C designator: (offset, size)} of every member, with a union's alternatives and an inline
        struct's members under ``outer.inner`` (as ``offsetof(T, u.bind_virq)`` names them)."""
        out = {}
        for name, ctype, count in self.members:
            off = base + self.offsetof(name, arch)
            out[prefix + name] = (off, self.member_size(name, arch))
            if not isinstance(ctype, str) and count == 1 and _layout(ctype).inline:
                out.update(_layout(ctype).member_table(arch, f"{prefix}{name}.", off))
        return out

    def flatten(self, values: list) -> list:
        out = []
        for (name, ctype, count), v in zip(self.members, values):
            if ctype == "char" and count > 1:
                out.append(v.encode() if isinstance(v, str) else bytes(v))
                continue
            items = v if count > 1 else [v]
            for item in items:
                out.extend([int(item)] if isinstance(ctype, str) else _layout(ctype).flatten(item))
        return out

    def nest(self, flat: list) -> list:
        """The inverse of ``flatten``: consume ``flat`` (a list, popped from the front)."""
        out = []
        for name, ctype, count in self.members:
            if ctype == "char" and count > 1:
                out.append(flat.pop(0))
                continue
            items = [flat.pop(0) if isinstance(ctype, str) else _layout(ctype).nest(flat)
                     for _ in range(count)]
            out.append(items if count > 1 else items[0])
        return out

    def pack(self, values: list, arch: str = "x86_32") -> bytes:
        return struct.pack("<" + self._geometry(arch)[0], *self.flatten(values))

    def unpack(self, raw: bytes, arch: str = "x86_32") -> list:
        fmt = "<" + self._geometry(arch)[0]
        return self.nest(list(struct.unpack(fmt, bytes(raw[:struct.calcsize(fmt)]))))


class UnionLayout(StructLayout):
    """A C union: every alternative at offset 0, as big as the largest (rounded to the alignment).
    It packs as its raw bytes: the caller packs the live alternative with that alternative's layout."""

    def __init__(self, name: str, members: list[tuple], inline: bool = True):
        super().__init__(name, members, inline)

    def _geometry(self, arch: str):
        if arch not in self._cache:
            if arch not in ARCHES:
                raise ValueError(f"arch must be one of {ARCHES}, got {arch!r}")
            size, align = 0, 1
            for name, ctype, count in self.members:
                _, one, al = self._piece(ctype, count, arch)
                size, align = max(size, one * count), max(align, al)
            size += -size % align
            self._cache[arch] = (f"{size}s", {name: 0 for name, _, _ in self.members}, size, align)
        return self._cache[arch]

    def flatten(self, values) -> list:
        raw = values.encode() if isinstance(values, str) else bytes(values or b"")
        return [raw]

    def arm(self, name: str, value, arch: str = "x86_32") -> bytes:
        """The union's bytes with alternative ``name`` live (its values as ``flatten`` takes them), the
        rest zero, as a C caller that zeroed the union and then filled one arm would leave it."""
        for member in self.members:
            if member[0] == name:
                raw = StructLayout(f"{self.name}.{name}", [member]).pack([value], arch)
                return raw.ljust(self.sizeof(arch), b"\0")
        raise KeyError(f"{self.name} has no alternative {name!r}")

    def nest(self, flat: list):
        return flat.pop(0)


class CStruct:
    """Mixin for a dataclass mirroring a C struct: ``pack(arch)``, ``unpack(raw, arch)``, ``sizeof``.
    Dataclass fields named like ``LAYOUT`` members map one to one; a nested member holds a CStruct
    (or a list of them)."""

    LAYOUT: ClassVar[StructLayout]

    def _values(self) -> list:
        return [_to_values(getattr(self, name)) for name, _, _ in self.LAYOUT.members]

    @classmethod
    def _from_values(cls, values: list):
        kwargs = {}
        for (name, ctype, count), v in zip(cls.LAYOUT.members, values):
            if not isinstance(ctype, (str, StructLayout)):
                v = [ctype._from_values(x) for x in v] if count > 1 else ctype._from_values(v)
            kwargs[name] = v
        return cls(**kwargs)

    def pack(self, arch: str = "x86_32") -> bytes:
        return self.LAYOUT.pack(self._values(), arch)

    @classmethod
    def unpack(cls, raw: bytes, arch: str = "x86_32"):
        return cls._from_values(cls.LAYOUT.unpack(raw, arch))

    @classmethod
    def sizeof(cls, arch: str = "x86_32") -> int:
        return cls.LAYOUT.sizeof(arch)


def _to_values(v):
    if isinstance(v, CStruct):
        return v._values()
    if isinstance(v, list):
        return [_to_values(x) for x in v]
    return v


def all_layouts() -> dict[str, StructLayout]:
    """Every StructLayout the model defines in xenlab.xen.public (module attributes, ``LAYOUT`` class
    attributes, and the layouts they nest), by name.  Inline ones are part of their outer struct."""
    from xenlab.xen import public

    found: dict[str, StructLayout] = {}

    def visit(layout: StructLayout, where: str) -> None:
        if layout.inline:
            pass
        elif found.get(layout.name, layout) is not layout:
            raise ValueError(f"two layouts named {layout.name!r} (one in {where})")
        else:
            found[layout.name] = layout
        for _, ctype, _ in layout.members:
            if not isinstance(ctype, str):
                visit(_layout(ctype), where)

    for info in sorted(pkgutil.walk_packages(public.__path__, public.__name__ + "."), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        for value in list(vars(module).values()):
            layout = value if isinstance(value, StructLayout) else getattr(value, "LAYOUT", None)
            if isinstance(value, type) and value.__module__ != module.__name__:
                continue                         # imported from elsewhere: counted where defined
            if isinstance(layout, StructLayout):
                visit(layout, info.name)
    return found

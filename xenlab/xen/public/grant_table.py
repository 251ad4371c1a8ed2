"""Grant tables, the guest-visible ABI: Xen's ``xen/include/public/grant_table.h``.

Models RELEASE-3.0.0's header (``GNTTABOP_copy`` and the newer GNTST codes from later headers, as
shipped in libxen-dev 4.17): the version-1 grant entry a guest writes into its shared table, the
GTF_/GNTMAP_/GNTST_/GNTTABOP_ numbers, and the argument structs of the grant-table hypercall as
dataclasses whose OUT fields a handler fills in place.  The hypervisor side is xen/gnttab.py.

``StructLayout``/``CStruct``, the C-layout helper, began here and now lives in cstruct.py (still
importable from this module).

Simplifications:
- Only grant table version 1 (``grant_entry_v1``); no v2 status frames, no transitive grants.
- A guest handle (``XEN_GUEST_HANDLE``) in a struct is packed as a null pointer: the list it points
  to travels as a Python list (``GnttabSetupTable.frame_list``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

# The C layout helper lives in cstruct.py; imported here too, where it began (io/ imported it from here).
from xenlab.xen.public.cstruct import ARCHES, CStruct, StructLayout  # noqa: F401

# -- grant entries --------------------------------------------------------------------------------
GTF_invalid = 0 << 0
GTF_permit_access = 1 << 0      # the grantee may map the frame
GTF_accept_transfer = 2 << 0    # the granter will accept a page flipped to it
GTF_transitive = 3 << 0         # (v2 era; not modelled)
GTF_type_mask = 3 << 0
_GTF_readonly, GTF_readonly = 2, 1 << 2   # set by the guest: map read-only only
_GTF_reading, GTF_reading = 3, 1 << 3     # set by Xen while the frame is mapped
_GTF_writing, GTF_writing = 4, 1 << 4     # set by Xen while it is mapped writable
GTF_PWT, GTF_PCD, GTF_PAT, GTF_sub_page = 1 << 5, 1 << 6, 1 << 7, 1 << 8
_GTF_transfer_committed, GTF_transfer_committed = 2, 1 << 2
_GTF_transfer_completed, GTF_transfer_completed = 3, 1 << 3

GNTTAB_NR_RESERVED_ENTRIES = 8  # modern: 0 = console, 1 = xenstore
GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE = 0, 1
ORDER_GRANT_FRAMES = 2
NR_GRANT_FRAMES = 1 << ORDER_GRANT_FRAMES              # 4 frames per table (3.0, x86)
GRANT_ENTRY_SIZE = 8                                   # sizeof(grant_entry_v1_t)
NR_GRANT_ENTRIES = NR_GRANT_FRAMES * 4096 // GRANT_ENTRY_SIZE  # 2048


@dataclass
class GrantEntryV1(CStruct):
    """``grant_entry_v1``: one 8-byte entry of the shared table.  Publish: domid, frame, wmb, flags."""
    flags: int = 0   # GTF_*; written by the guest and by Xen
    domid: int = 0   # the domain being granted access
    frame: int = 0   # permit_access: the frame; accept_transfer: Xen writes the new MFN
    LAYOUT: ClassVar = StructLayout("grant_entry_v1", [
        ("flags", "uint16_t"), ("domid", "domid_t"), ("frame", "uint32_t")])


GrantEntry = GrantEntryV1  # 3.0's name was grant_entry_t

# -- operations -----------------------------------------------------------------------------------
GNTTABOP_map_grant_ref = 0
GNTTABOP_unmap_grant_ref = 1
GNTTABOP_setup_table = 2
GNTTABOP_dump_table = 3
GNTTABOP_transfer = 4
GNTTABOP_copy = 5               # 3.1 and later
GNTTABOP_query_size = 6
GNTTABOP_unmap_and_replace = 7
GNTTABOP_set_version = 8
GNTTABOP_get_status_frames = 9
GNTTABOP_get_version = 10
GNTTABOP_swap_grant_ref = 11
GNTTABOP_cache_flush = 12

GNTMAP_device_map = 1 << 0
GNTMAP_host_map = 1 << 1
GNTMAP_readonly = 1 << 2
GNTMAP_application_map = 1 << 3
GNTMAP_contains_pte = 1 << 4

GNTCOPY_source_gref = 1 << 0
GNTCOPY_dest_gref = 1 << 1

GNTST_okay = 0
GNTST_general_error = -1
GNTST_bad_domain = -2
GNTST_bad_gntref = -3
GNTST_bad_handle = -4
GNTST_bad_virt_addr = -5
GNTST_bad_dev_addr = -6
GNTST_no_device_space = -7
GNTST_permission_denied = -8
GNTST_bad_page = -9
GNTST_bad_copy_arg = -10
GNTST_address_too_big = -11
GNTST_eagain = -12
GNTST_no_space = -13
GNTST_NAMES = {v: k for k, v in dict(globals()).items() if k.startswith("GNTST_")}


@dataclass
class GnttabMapGrantRef(CStruct):
    """IN host_addr, flags (GNTMAP_*), ref, dom; OUT status (GNTST_*), handle, dev_bus_addr."""
    host_addr: int = 0
    flags: int = 0
    ref: int = 0
    dom: int = 0
    status: int = 0
    handle: int = 0
    dev_bus_addr: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_map_grant_ref", [
        ("host_addr", "uint64_t"), ("flags", "uint32_t"), ("ref", "grant_ref_t"), ("dom", "domid_t"),
        ("status", "int16_t"), ("handle", "grant_handle_t"), ("dev_bus_addr", "uint64_t")])


@dataclass
class GnttabUnmapGrantRef(CStruct):
    """IN host_addr, dev_bus_addr, handle; OUT status."""
    host_addr: int = 0
    dev_bus_addr: int = 0
    handle: int = 0
    status: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_unmap_grant_ref", [
        ("host_addr", "uint64_t"), ("dev_bus_addr", "uint64_t"), ("handle", "grant_handle_t"),
        ("status", "int16_t")])


@dataclass
class GnttabSetupTable(CStruct):
    """IN dom, nr_frames; OUT status, frame_list (the table's frames, for the guest to map)."""
    dom: int = 0
    nr_frames: int = 0
    status: int = 0
    frame_list: list[int] = field(default_factory=list)
    LAYOUT: ClassVar = StructLayout("gnttab_setup_table", [
        ("dom", "domid_t"), ("nr_frames", "uint32_t"), ("status", "int16_t"), ("frame_list", "handle")])

    def _values(self) -> list:
        return [self.dom, self.nr_frames, self.status, 0]  # the guest handle: see Simplifications

    @classmethod
    def _from_values(cls, values: list):
        return cls(values[0], values[1], values[2])


@dataclass
class GnttabTransfer(CStruct):
    """IN mfn (the page to give away), domid, ref (a GTF_accept_transfer entry of domid); OUT status."""
    mfn: int = 0
    domid: int = 0
    ref: int = 0
    status: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_transfer", [
        ("mfn", "xen_pfn_t"), ("domid", "domid_t"), ("ref", "grant_ref_t"), ("status", "int16_t")])


@dataclass
class GnttabCopyPtr(CStruct):
    """One side of a copy: ``u`` is a grant ref (GNTCOPY_*_gref set) or a gmfn, then domid, offset."""
    u: int = 0
    domid: int = 0
    offset: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_copy_ptr", [
        ("u", "xen_pfn_t"), ("domid", "domid_t"), ("offset", "uint16_t")])

    ref = property(lambda s: s.u)   # the union's two names, as in C: .u.ref / .u.gmfn
    gmfn = property(lambda s: s.u)


@dataclass
class GnttabCopy(CStruct):
    """IN source, dest, len (bytes), flags (GNTCOPY_*); OUT status."""
    source: GnttabCopyPtr = field(default_factory=GnttabCopyPtr)
    dest: GnttabCopyPtr = field(default_factory=GnttabCopyPtr)
    len: int = 0
    flags: int = 0
    status: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_copy", [
        ("source", GnttabCopyPtr), ("dest", GnttabCopyPtr), ("len", "uint16_t"),
        ("flags", "uint16_t"), ("status", "int16_t")])


@dataclass
class GnttabQuerySize(CStruct):
    """IN dom; OUT nr_frames, max_nr_frames, status."""
    dom: int = 0
    nr_frames: int = 0
    max_nr_frames: int = 0
    status: int = 0
    LAYOUT: ClassVar = StructLayout("gnttab_query_size", [
        ("dom", "domid_t"), ("nr_frames", "uint32_t"), ("max_nr_frames", "uint32_t"),
        ("status", "int16_t")])


def struct_fields(cls) -> list[str]:
    """The dataclass field names of a CStruct, in C order (for views and dumps)."""
    return [f.name for f in fields(cls)]

"""The PV kernel's own GDT: a page it fills, makes read-only, and hands to Xen with set_gdt.

What XenLinux does in cpu_gdt_init / xen_load_gdt (X@RELEASE-3.0.0:linux-2.6-xen-sparse/arch/xen/
i386/kernel/cpu/common.c): write the descriptors while the page is still ordinary memory, map it
read-only (Xen refuses a GDT page with a writable mapping), then ``set_gdt(frames, entries)``.
Afterwards one descriptor at a time is changed with ``update_descriptor``, which Xen checks.

Entries follow Linux 2.6's i386 layout: 12 kernel CS, 13 kernel DS, 14 user CS, 15 user DS, with
the kernel's at DPL 1 (the ring a PV kernel runs in).

Simplifications:
- One GDT page (512 entries), for vcpu 0 only.
"""
from __future__ import annotations

from xenlab.hw import idt
from xenlab.hw.memory import PAGE_SHIFT
from xenlab.hw.segments import DescriptorTable, SegmentDescriptor
from xenlab.xen.public import xen as X

GDT_ENTRY_KERNEL_CS, GDT_ENTRY_KERNEL_DS = 12, 13
GDT_ENTRY_USER_CS, GDT_ENTRY_USER_DS = 14, 15
GDT_ENTRIES = 32
PAGE_OFFSET = 0xC0000000


class GuestGDT:
    def __init__(self, d):
        self.d = d
        mm = d.kernel.mm
        self.pfn = mm._take_pfn()
        self.mfn = mm.p2m[self.pfn]
        mem = d.machine.memory
        mem.clear_frame(self.mfn)
        for index, (dpl, code) in ((GDT_ENTRY_KERNEL_CS, (1, True)), (GDT_ENTRY_KERNEL_DS, (1, False)),
                                   (GDT_ENTRY_USER_CS, (3, True)), (GDT_ENTRY_USER_DS, (3, False))):
            mem.write_u64((self.mfn << PAGE_SHIFT) + 8 * index, SegmentDescriptor.flat(dpl, code).encode())
        if self.pfn < mm.lowmem_pages:                        # make_page_readonly
            rc = idt.hypercall(d.vcpus[0], "update_va_mapping", PAGE_OFFSET + (self.pfn << PAGE_SHIFT), mm.pte(self.pfn, False),
                             X.UVMF_INVLPG)
            assert rc == 0, rc
        self.rc = idt.hypercall(d.vcpus[0], "set_gdt", [self.mfn], GDT_ENTRIES)

    @property
    def table(self) -> DescriptorTable:
        return DescriptorTable(self.d.machine.memory, [self.mfn], GDT_ENTRIES)

    def maddr(self, index: int) -> int:
        return self.table.entry_maddr(index)

    def install(self, index: int, desc) -> int:
        """update_descriptor(ma, desc) for entry ``index``: 0 or -errno (a descriptor or a raw u64)."""
        raw = desc if isinstance(desc, int) else desc.encode()
        return idt.hypercall(self.d.vcpus[0], "update_descriptor", self.maddr(index), raw)

    def __repr__(self) -> str:
        return f"<GuestGDT d{self.d.domain_id} mfn {self.mfn:#x}, {GDT_ENTRIES} entries, set_gdt rc={self.rc}>"


def guest_gdt(d) -> GuestGDT:
    """The domain's own GDT, set up with set_gdt on first use."""
    g = getattr(d.kernel, "gdt", None)
    if g is None:
        g = d.kernel.gdt = GuestGDT(d)
    return g

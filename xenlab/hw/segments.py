"""x86 segmentation: 8-byte descriptors, selectors, segment registers, the GDT and LDT.

Models the protected-mode rules of the Intel SDM vol. 3A ch. 3 and 5 (and vol. 2 MOV/JMP/CALL), which
Xen relies on to keep guests out of its top-of-memory segment (``X@RELEASE-3.0.0:xen/arch/x86/x86_32/
mm.c`` ``check_descriptor`` decides which descriptors a guest may install; this module is the CPU that
then obeys them). Descriptor tables live in real frames of a ``MachineMemory``: entry ``i`` is the
8 little-endian bytes at ``mfns[i // 512] * 4096 + (i % 512) * 8``, as the GDTR would find them.

Descriptor layout (low dword ``a``, high dword ``b``, Xen's names for the two halves):
    a[15:0] limit 15:0      a[31:16] base 15:0
    b[7:0]  base 23:16      b[11:8] type   b[12] S   b[14:13] DPL   b[15] P
    b[19:16] limit 19:16    b[20] AVL      b[21] L   b[22] D/B      b[23] G   b[31:24] base 31:24
A 32-bit call gate: a = selector << 16 | offset 15:0; b = offset 31:16 << 16 | P DPL 0 type | params.

Simplifications:
- 32-bit protected mode only; no real mode, vm86, 64-bit (L) segments or task switches.
- A far call through a gate to a more privileged ring changes CPL but does not switch stacks (the
  TSS ss1/esp1 that Xen's ``stack_switch`` sets is not modelled here).
- Far calls through task, interrupt or trap gates raise #GP (only call gates are followed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .faults import GeneralProtectionFault, SegmentNotPresent, StackFault
from .memory import PAGE_SHIFT, MachineMemory

DESC_SIZE = 8                      # bytes per descriptor
DESCS_PER_PAGE = 512               # 4096 / 8
MAX_DESC_ENTRIES = 8192            # a selector's 13-bit index

# type field, S=1 (code/data)
SEG_TYPE_ACCESSED = 0x1
SEG_TYPE_WRITABLE = 0x2            # data: writable            (code: readable)
SEG_TYPE_READABLE = 0x2
SEG_TYPE_EXPAND_DOWN = 0x4         # data: expand-down         (code: conforming)
SEG_TYPE_CONFORMING = 0x4
SEG_TYPE_CODE = 0x8
# type field, S=0 (system); the gates are the ones with a selector:offset instead of base:limit
SYS_TYPE_LDT = 0x2
SYS_TYPE_TASK_GATE = 0x5
SYS_TYPE_TSS = 0x9
SYS_TYPE_TSS_BUSY = 0xB
SYS_TYPE_CALL_GATE = 0xC           # Xen writes the type in place as (b & 0xf00) == 0xc00
SYS_TYPE_INTR_GATE = 0xE
SYS_TYPE_TRAP_GATE = 0xF
GATE_TYPES = frozenset({0x4, 0x5, 0x6, 0x7, 0xC, 0xE, 0xF})

_SYS_NAMES = {0x1: "tss16", 0x2: "ldt", 0x3: "tss16-busy", 0x4: "call-gate16", 0x5: "task-gate",
              0x6: "int-gate16", 0x7: "trap-gate16", 0x9: "tss", 0xB: "tss-busy", 0xC: "call-gate",
              0xE: "int-gate", 0xF: "trap-gate"}


def type_name(s: int, type_: int) -> str:
    """'code execute/read', 'data read/write expand-down', 'call-gate' ..."""
    if not s:
        return _SYS_NAMES.get(type_, f"reserved-system-{type_:#x}")
    if type_ & SEG_TYPE_CODE:
        txt = "code execute" + ("/read" if type_ & SEG_TYPE_READABLE else "-only")
        return txt + (" conforming" if type_ & SEG_TYPE_CONFORMING else "")
    txt = "data read" + ("/write" if type_ & SEG_TYPE_WRITABLE else "-only")
    return txt + (" expand-down" if type_ & SEG_TYPE_EXPAND_DOWN else "")


def _field(name: str, value: int, bits: int) -> int:
    if not 0 <= int(value) < (1 << bits):
        raise ValueError(f"descriptor field {name}={value!r} does not fit in {bits} bits")
    return int(value)


@dataclass(frozen=True)
class SegmentDescriptor:
    """A code, data or system (LDT/TSS) segment: base, 20-bit limit and attributes."""

    base: int = 0
    limit: int = 0                 # raw 20-bit limit, in bytes (G=0) or 4 KiB units (G=1)
    type: int = 0
    s: int = 1                     # 1 = code/data, 0 = system
    dpl: int = 0
    p: int = 1
    avl: int = 0
    l: int = 0                     # noqa: E741 (the manual's name); 64-bit code, reserved here
    db: int = 1                    # D (code: 32-bit), B (stack: esp, expand-down top 4 GiB)
    g: int = 1

    def __post_init__(self):
        for name, bits in (("base", 32), ("limit", 20), ("type", 4), ("s", 1), ("dpl", 2),
                           ("p", 1), ("avl", 1), ("l", 1), ("db", 1), ("g", 1)):
            _field(name, getattr(self, name), bits)

    # -- encoding ---------------------------------------------------------------------------
    @property
    def words(self) -> tuple[int, int]:
        """``(a, b)``: the low and high 32-bit halves as Xen's check_descriptor sees them."""
        a = (self.base & 0xFFFF) << 16 | (self.limit & 0xFFFF)
        b = ((self.base >> 16) & 0xFF) | self.type << 8 | self.s << 12 | self.dpl << 13 \
            | self.p << 15 | (self.limit >> 16) << 16 | self.avl << 20 | self.l << 21 \
            | self.db << 22 | self.g << 23 | (self.base >> 24) << 24
        return a, b

    def encode(self) -> int:
        a, b = self.words
        return b << 32 | a

    # -- meaning ----------------------------------------------------------------------------
    @property
    def byte_limit(self) -> int:
        """The last valid offset for expand-up (G=1 scales by 4 KiB and fills the low 12 bits)."""
        return (self.limit << 12) | 0xFFF if self.g else self.limit

    is_code = property(lambda self: bool(self.s and self.type & SEG_TYPE_CODE))
    is_data = property(lambda self: bool(self.s and not self.type & SEG_TYPE_CODE))
    writable = property(lambda self: self.is_data and bool(self.type & SEG_TYPE_WRITABLE))
    readable = property(lambda self: self.is_data or bool(self.is_code and self.type & SEG_TYPE_READABLE))
    expand_down = property(lambda self: self.is_data and bool(self.type & SEG_TYPE_EXPAND_DOWN))
    conforming = property(lambda self: self.is_code and bool(self.type & SEG_TYPE_CONFORMING))

    @classmethod
    def flat(cls, dpl: int, code: bool) -> "SegmentDescriptor":
        """A flat 4 GiB segment (base 0, limit 0xfffff pages): execute/read code or read/write data."""
        return cls(base=0, limit=0xFFFFF, type=0xA if code else 0x2, s=1, dpl=dpl, p=1, db=1, g=1)

    def __repr__(self) -> str:
        return (f"<{type_name(self.s, self.type)} DPL{self.dpl} base={self.base:#010x} "
                f"limit={self.limit:#07x} (last byte {self.byte_limit:#x}) G={self.g} D/B={self.db} "
                f"P={self.p} raw={self.encode():#018x}>")


@dataclass(frozen=True)
class GateDescriptor:
    """A gate (call, interrupt, trap, task): a target selector:offset instead of base:limit."""

    selector: int = 0
    offset: int = 0
    param_count: int = 0           # call gates: dwords copied to the inner stack (5 bits)
    type: int = SYS_TYPE_CALL_GATE
    dpl: int = 0
    p: int = 1
    reserved: int = 0              # b[7:5]; Xen refuses call gates with (b & 0xe0) != 0
    s = 0

    def __post_init__(self):
        for name, bits in (("selector", 16), ("offset", 32), ("param_count", 5), ("type", 4),
                           ("dpl", 2), ("p", 1), ("reserved", 3)):
            _field(name, getattr(self, name), bits)
        if self.type not in GATE_TYPES:
            raise ValueError(f"type {self.type:#x} is not a gate type")

    @property
    def words(self) -> tuple[int, int]:
        a = self.selector << 16 | (self.offset & 0xFFFF)
        b = (self.offset >> 16) << 16 | self.p << 15 | self.dpl << 13 | self.type << 8 \
            | self.reserved << 5 | self.param_count
        return a, b

    def encode(self) -> int:
        a, b = self.words
        return b << 32 | a

    def __repr__(self) -> str:
        return (f"<{type_name(0, self.type)} DPL{self.dpl} -> {self.selector:#06x}:{self.offset:#010x} "
                f"params={self.param_count} P={self.p} raw={self.encode():#018x}>")


Descriptor = SegmentDescriptor | GateDescriptor


def decode(raw: int) -> Descriptor:
    """Decode 8 descriptor bytes (as one little-endian u64) into its fields."""
    raw = _field("raw", raw, 64)
    a, b = raw & 0xFFFFFFFF, raw >> 32
    type_, s = (b >> 8) & 0xF, (b >> 12) & 1
    dpl, p = (b >> 13) & 3, (b >> 15) & 1
    if not s and type_ in GATE_TYPES:
        return GateDescriptor(selector=a >> 16, offset=(b & 0xFFFF0000) | (a & 0xFFFF),
                              param_count=b & 0x1F, type=type_, dpl=dpl, p=p, reserved=(b >> 5) & 7)
    return SegmentDescriptor(
        base=(b & 0xFF000000) | (b & 0xFF) << 16 | a >> 16, limit=(b & 0xF0000) | (a & 0xFFFF),
        type=type_, s=s, dpl=dpl, p=p, avl=(b >> 20) & 1, l=(b >> 21) & 1,
        db=(b >> 22) & 1, g=(b >> 23) & 1)


# -- selectors ------------------------------------------------------------------------------------
def make_selector(index: int, ti: int = 0, rpl: int = 0) -> int:
    """index[15:3] | TI[2] (0 = GDT, 1 = LDT) | RPL[1:0]."""
    return _field("index", index, 13) << 3 | _field("ti", ti, 1) << 2 | _field("rpl", rpl, 2)


def sel_index(sel: int) -> int:
    return (sel >> 3) & 0x1FFF


def sel_ti(sel: int) -> int:
    return (sel >> 2) & 1


def sel_rpl(sel: int) -> int:
    return sel & 3


def describe_selector(sel: int) -> str:
    return f"{sel:#06x} = index {sel_index(sel)}, {'LDT' if sel_ti(sel) else 'GDT'}, RPL {sel_rpl(sel)}"


# -- descriptor tables in memory --------------------------------------------------------------------
@dataclass
class DescriptorTable:
    """A GDT or LDT: the frames that hold it (in order) and how many entries it has."""

    memory: MachineMemory
    mfns: list[int]
    nr_entries: int

    def __post_init__(self):
        self.mfns = [self.memory.check_mfn(m) for m in self.mfns]
        if not 0 <= self.nr_entries <= min(MAX_DESC_ENTRIES, len(self.mfns) * DESCS_PER_PAGE):
            raise ValueError(f"{self.nr_entries} entries do not fit in {len(self.mfns)} frame(s) "
                             f"(at most {DESCS_PER_PAGE} per frame, {MAX_DESC_ENTRIES} in all)")

    @property
    def limit(self) -> int:
        """What GDTR/LDTR.limit would hold: the last valid byte offset."""
        return self.nr_entries * DESC_SIZE - 1

    def entry_maddr(self, index: int) -> int:
        if not 0 <= index < self.nr_entries:
            raise IndexError(f"descriptor {index} outside table of {self.nr_entries} entries")
        return (self.mfns[index // DESCS_PER_PAGE] << PAGE_SHIFT) + (index % DESCS_PER_PAGE) * DESC_SIZE

    def read_raw(self, index: int) -> int:
        return self.memory.read_u64(self.entry_maddr(index))

    def write_raw(self, index: int, raw: int) -> None:
        self.memory.write_u64(self.entry_maddr(index), raw)

    def __getitem__(self, index: int) -> Descriptor:
        return decode(self.read_raw(index))

    def __setitem__(self, index: int, desc: Descriptor) -> None:
        self.write_raw(index, desc.encode())

    def __len__(self) -> int:
        return self.nr_entries

    def table(self, only_present: bool = True) -> str:
        rows = [f"{i:5d} {self.read_raw(i):#018x} {self[i]!r}" for i in range(self.nr_entries)
                if not only_present or self.read_raw(i) & (1 << 47)]
        return "\n".join(rows) or "(no present descriptors)"

    def __repr__(self) -> str:
        frames = ",".join(f"{m:#x}" for m in self.mfns)
        return f"<DescriptorTable {self.nr_entries} entries in mfn {frames}>"


# -- segment registers and the segment unit -------------------------------------------------------
@dataclass
class SegmentRegister:
    """The visible selector plus the hidden descriptor cache the CPU loaded with it."""

    name: str
    selector: int = 0
    cache: SegmentDescriptor | None = None    # None: a null (unusable) segment

    base = property(lambda self: self.cache.base if self.cache else 0)
    limit = property(lambda self: self.cache.byte_limit if self.cache else 0)

    def __repr__(self) -> str:
        if self.cache is None:
            return f"{self.name}={self.selector:#06x} (null)"
        c = self.cache
        return (f"{self.name}={self.selector:#06x} [base {c.base:#x} limit {c.byte_limit:#x} DPL{c.dpl} "
                f"{type_name(c.s, c.type)}]")


SEG_REGS = ("cs", "ss", "ds", "es", "fs", "gs")


@dataclass
class SegmentUnit:
    """One CPU's segmentation state: GDTR, LDTR, CPL and the six segment registers."""

    gdt: DescriptorTable
    ldt: DescriptorTable | None = None
    cpl: int = 0
    regs: dict[str, SegmentRegister] = field(default_factory=lambda: {r: SegmentRegister(r) for r in SEG_REGS})

    def __getattr__(self, name: str) -> SegmentRegister:
        if name in SEG_REGS:
            return self.regs[name]
        raise AttributeError(name)

    def _fetch(self, sel: int) -> Descriptor:
        """Read the descriptor a non-null selector names, #GP(sel) if it lies outside its table."""
        table = self.ldt if sel_ti(sel) else self.gdt
        if table is None or sel_index(sel) >= len(table):
            where = "LDT" if sel_ti(sel) else "GDT"
            raise GeneralProtectionFault(sel & 0xFFFC, f"selector {sel:#x} outside the {where}")
        return table[sel_index(sel)]

    def _set_accessed(self, sel: int, desc: SegmentDescriptor) -> SegmentDescriptor:
        # The CPU writes the accessed bit back into the table when it loads a segment.
        if desc.type & SEG_TYPE_ACCESSED:
            return desc
        table = self.ldt if sel_ti(sel) else self.gdt
        table.write_raw(sel_index(sel), table.read_raw(sel_index(sel)) | 1 << 40)
        return decode(table.read_raw(sel_index(sel)))

    def load(self, reg: str, sel: int) -> SegmentRegister:
        """``mov sel, %reg`` for ss/ds/es/fs/gs with the SDM's checks (vol. 2, MOV)."""
        if reg not in SEG_REGS or reg == "cs":
            raise ValueError(f"load() takes one of ss ds es fs gs, not {reg!r} (use far_jump for cs)")
        if sel & 0xFFFC == 0:
            if reg == "ss":
                raise GeneralProtectionFault(0, "null selector loaded into SS")
            self.regs[reg] = SegmentRegister(reg, sel, None)
            return self.regs[reg]
        d = self._fetch(sel)
        rpl, why = sel_rpl(sel), None
        if reg == "ss":
            if rpl != self.cpl or not d.s or not d.writable or d.dpl != self.cpl:
                why = f"SS needs a writable data segment with RPL = DPL = CPL {self.cpl}"
        elif not d.s or not d.readable:
            why = "not a data or readable code segment"
        elif (d.is_data or not d.conforming) and (rpl > d.dpl or self.cpl > d.dpl):
            why = f"RPL {rpl} or CPL {self.cpl} is less privileged than DPL {d.dpl}"
        if why:
            raise GeneralProtectionFault(sel & 0xFFFC, why)
        if not d.p:
            raise (StackFault if reg == "ss" else SegmentNotPresent)(sel & 0xFFFC, "segment not present")
        self.regs[reg] = SegmentRegister(reg, sel, self._set_accessed(sel, d))
        return self.regs[reg]

    def far_jump(self, sel: int, offset: int, call: bool = False) -> tuple[int, int]:
        """``ljmp/lcall sel:offset``: to a code segment directly, or (lcall) through a call gate.
        Returns the new ``(cs, eip)`` and updates CPL when a gate leads to a more privileged ring."""
        if sel & 0xFFFC == 0:
            raise GeneralProtectionFault(0, "null code selector")
        d = self._fetch(sel)
        if isinstance(d, GateDescriptor):
            if not call or d.type != SYS_TYPE_CALL_GATE:
                raise GeneralProtectionFault(sel & 0xFFFC, f"{type_name(0, d.type)} not followed here")
            if d.dpl < self.cpl or d.dpl < sel_rpl(sel):
                raise GeneralProtectionFault(sel & 0xFFFC, f"gate DPL {d.dpl} < CPL/RPL")
            if not d.p:
                raise SegmentNotPresent(sel & 0xFFFC, "call gate not present")
            return self._enter_code(d.selector, d.offset, via_gate=True)
        return self._enter_code(sel, offset, via_gate=False)

    def _enter_code(self, sel: int, offset: int, via_gate: bool) -> tuple[int, int]:
        if sel & 0xFFFC == 0:
            raise GeneralProtectionFault(0, "null code selector")
        d = self._fetch(sel)
        if not d.is_code:
            raise GeneralProtectionFault(sel & 0xFFFC, "target is not a code segment")
        if via_gate or d.conforming:
            bad = d.dpl > self.cpl                     # may only go to equal or more privileged code
        else:
            bad = sel_rpl(sel) > self.cpl or d.dpl != self.cpl
        if bad:
            raise GeneralProtectionFault(sel & 0xFFFC, f"code DPL {d.dpl} not reachable from CPL {self.cpl}")
        if not d.p:
            raise SegmentNotPresent(sel & 0xFFFC, "code segment not present")
        if offset > d.byte_limit:
            raise GeneralProtectionFault(0, f"eip {offset:#x} beyond CS limit {d.byte_limit:#x}")
        if via_gate and not d.conforming:
            self.cpl = d.dpl                           # inner-ring call (stack switch not modelled)
        cs = (sel & 0xFFFC) | self.cpl                 # CS.RPL always equals CPL
        self.regs["cs"] = SegmentRegister("cs", cs, self._set_accessed(sel, d))
        return cs, offset

    def linear(self, reg: str, offset: int, size: int = 1, access: str = "r") -> int:
        """The linear address of ``reg:offset`` for an access of ``size`` bytes ('r', 'w' or 'x'),
        after the type and limit checks; #GP(0) (or #SS(0) for the stack) if they fail."""
        if access not in ("r", "w", "x") or size < 1 or not 0 <= offset <= 0xFFFFFFFF:
            raise ValueError(f"bad access {access!r}/size {size}/offset {offset!r}")
        r = self.regs[reg]
        fault = StackFault if reg == "ss" else GeneralProtectionFault
        d = r.cache
        if d is None:
            raise fault(0, f"{reg} holds a null selector")
        if access == "w" and not d.writable:
            raise fault(0, f"write to {type_name(d.s, d.type)} segment")
        if access == "r" and not d.readable:
            raise fault(0, f"read from {type_name(d.s, d.type)} segment")
        if access == "x" and reg != "cs":
            raise ValueError("instruction fetches go through cs")
        last = offset + size - 1
        if d.expand_down:
            top = 0xFFFFFFFF if d.db else 0xFFFF
            if offset <= d.byte_limit or last > top:
                raise fault(0, f"{reg}:{offset:#x}+{size} outside expand-down ({d.byte_limit:#x}, {top:#x}]")
        elif last > d.byte_limit:
            raise fault(0, f"{reg}:{offset:#x}+{size} beyond limit {d.byte_limit:#x}")
        return (d.base + offset) & 0xFFFFFFFF

    def __repr__(self) -> str:
        regs = "\n  ".join(repr(self.regs[r]) for r in SEG_REGS)
        ldt = f"LDT {self.ldt.nr_entries} entries" if self.ldt else "no LDT"
        return f"<SegmentUnit CPL {self.cpl}, GDT {self.gdt.nr_entries} entries, {ldt}\n  {regs}>"

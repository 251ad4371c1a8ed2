"""The hypercall table and its dispatch (X@RELEASE-3.0.0:xen/arch/x86/x86_32/entry.S, hypercall_table).

A PV guest kernel runs in ring 1 and cannot execute privileged instructions; instead it traps into
Xen with ``int $0x82``, the hypercall number in EAX and up to five arguments in EBX, ECX, EDX, ESI,
EDI. Xen looks the number up in ``hypercall_table`` and calls ``do_<name>``; the C return value
(0, a count, or -errno) goes back in EAX.

In the model a handler is registered with ``@hypercall("name")`` and called as
``do_name(current, *args)`` where ``current`` is the calling Vcpu. Pointers to structs are dataclass
instances named after Xen's structs; the handler fills their OUT fields in place.

Hostile arguments (the dispatch layer, before the handler runs): whatever a guest passes, Xen returns
an error code and its state is unchanged; only a bug in the model itself may raise.
- Too few arguments: -EFAULT. On hardware the missing argument is whatever the guest left in the
  register; for the pointer arguments most hypercalls take, that garbage fails copy_from_guest with
  -EFAULT, so the model answers that rather than guess a value.
- Too many arguments: -EINVAL. Xen never reads the extra registers, so on hardware the call would go
  on; the model refuses it so the guest's mistake is visible (a simplification).
- A parameter the handler declares ``int`` (a register) that is not a Python int, or that no 32-bit
  register can hold (outside -2**31 .. 2**32-1; 64 bits for the register pairs named in ``wide``):
  -EINVAL, no such call can be made on x86_32.
  Each handler then reads the value with its C type's signedness (e.g. ``vm_assist(0, -1)`` is type
  0xFFFFFFFF, above MAX_VMASST_TYPE: -EINVAL).

Simplifications:
- Arguments are Python objects rather than guest virtual addresses, so -EFAULT (a bad pointer) only
  arises where the model checks an address explicitly, or where an argument is not the struct the
  call takes (what a bad pointer would make copy_from_guest fail on).
- A field of a struct argument whose C type cannot hold the value (a negative ``unsigned int``, a
  ``uint16_t`` above 65535) is refused as a whole (-EINVAL, or the call's per-op error status) instead
  of being wrapped the way C would store it.
- No continuations: long batches run to completion in one call.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import HYPERCALL_NAMES, HYPERCALL_NUMBERS, NR_hypercalls

Handler = Callable[..., int]


@dataclass
class HypercallEntry:
    nr: int
    name: str
    handler: Handler | None       # None: not implemented (do_ni_hypercall)
    privileged: bool = False      # refused with -EPERM for unprivileged callers before any argument check
    min_args: int = 0             # positional arguments after ``current``
    max_args: int = 0
    int_args: dict = field(default_factory=dict)   # position -> None allowed (``int | None``)




def _shape(fn, wide) -> tuple[int, int, dict]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    lo = sum(1 for p in params if p.default is inspect.Parameter.empty)
    ints = {}
    for i, p in enumerate(params):
        ann = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        ann = ann.replace(" ", "")
        if ann in ("int", "int|None"):
            ints[i] = (ann != "int", 64 if p.name in wide else 32)
    return lo, len(params), ints


def is_int(value) -> bool:
    """A whole number as a register or a C field holds it (Python or numpy ints; not bool, None, float)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_uint(value, bits: int) -> bool:
    """Can a C unsigned field of ``bits`` bits hold ``value``?"""
    return is_int(value) and 0 <= value < 1 << bits


def bad_args(entry: HypercallEntry, args: tuple) -> int:
    """0, or the -errno the dispatcher answers for these arguments (see the module docstring)."""
    if len(args) < entry.min_args:
        return -E.EFAULT
    if len(args) > entry.max_args:
        return -E.EINVAL
    for i, (none_ok, bits) in entry.int_args.items():
        if i >= len(args):
            break
        a = args[i]
        if a is None and none_ok:
            continue
        if not is_int(a) or not -(1 << (bits - 1)) <= a < 1 << bits:
            return -E.EINVAL
    return 0


# One slot per hypercall number, as hypercall_table in entry.S.
hypercall_table: dict[int, HypercallEntry] = {
    nr: HypercallEntry(nr, name, None) for nr, name in HYPERCALL_NAMES.items()
}


def hypercall(name: str, privileged: bool = False, wide: tuple = ()) -> Callable[[Handler], Handler]:
    """Register ``do_<name>`` in the hypercall table (decorator). ``wide`` names the int parameters
    that are 64-bit in Xen's prototype (a register pair on x86_32: a PTE, a descriptor, a time)."""
    if name not in HYPERCALL_NUMBERS:
        raise ValueError(f"{name!r} is not a Xen 3.0 hypercall name")

    def register(fn: Handler) -> Handler:
        nr = HYPERCALL_NUMBERS[name]
        hypercall_table[nr] = HypercallEntry(nr, name, fn, privileged, *_shape(fn, wide))
        return fn
    return register


def resolve(name_or_number) -> int:
    if isinstance(name_or_number, str):
        key = name_or_number.removeprefix("__HYPERVISOR_").removeprefix("HYPERVISOR_")
        if key not in HYPERCALL_NUMBERS:
            raise ValueError(f"unknown hypercall name {name_or_number!r}; "
                             f"known: {', '.join(sorted(HYPERCALL_NUMBERS))}")
        return HYPERCALL_NUMBERS[key]
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, int):
        raise TypeError(f"a hypercall is named by str or int, got {name_or_number!r}")
    return name_or_number


def dispatch(current, entry: HypercallEntry | None, args: tuple) -> int:
    """The table slot's handler on ``args``, after the checks every entry into Xen gets (a direct call
    and each multicall entry alike): -ENOSYS for an empty slot, -EPERM for an unprivileged caller of a
    privileged call, then the arguments (bad_args)."""
    if entry is None or entry.handler is None:
        return -E.ENOSYS                           # do_ni_hypercall
    if entry.privileged and not current.domain.is_privileged:
        return -E.EPERM                            # IS_PRIV check comes before anything else
    rc = bad_args(entry, args)
    if rc != 0:
        return rc
    rc = entry.handler(current, *args)
    if not isinstance(rc, int):
        raise TypeError(f"do_{entry.name} returned {rc!r}; a hypercall returns an int")
    return rc


def hypercall_from_guest(current, name_or_number, *args) -> int:
    """Enter Xen from ``current`` (a Vcpu) as ``int $0x82`` would, and return EAX."""
    machine = current.domain.machine
    nr = resolve(name_or_number)
    # entry.S masks EAX with NR_hypercalls-1 before indexing the table.
    slot = nr & (NR_hypercalls - 1) if nr >= 0 else None
    entry = hypercall_table.get(slot) if slot is not None else None
    name = entry.name if entry else f"#{nr}"
    d = current.domain
    d.hypercall_counts[name] = d.hypercall_counts.get(name, 0) + 1
    machine.stats["hypercalls"] = machine.stats.get("hypercalls", 0) + 1
    trace = machine.trace
    seq = trace.emit("PV", "hypercall", domid=d.domain_id, vcpu=current.vcpu_id, pcpu=current.processor,
                     nr=nr, op=name, args=args) if trace.active else None
    machine.charge_hypercall(current)
    with trace.cause(seq):
        rc = dispatch(current, entry, args)
        if trace.active:
            trace.emit("PV", "hypercall_ret", domid=d.domain_id, vcpu=current.vcpu_id, pcpu=current.processor,
                       nr=nr, op=name, rc=rc, errno=E.errno_name(rc))
    return rc


def implemented() -> dict[str, bool]:
    return {e.name: e.handler is not None for e in sorted(hypercall_table.values(), key=lambda e: e.nr)}

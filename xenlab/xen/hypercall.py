"""The hypercall table and its dispatch (X@RELEASE-3.0.0:xen/arch/x86/x86_32/entry.S, hypercall_table).

A PV guest kernel runs in ring 1 and cannot execute privileged instructions; instead it traps into
Xen with ``int $0x82``, the hypercall number in EAX and up to five arguments in EBX, ECX, EDX, ESI,
EDI. Xen looks the number up in ``hypercall_table`` and calls ``do_<name>``; the C return value
(0, a count, or -errno) goes back in EAX.

In the model a handler is registered with ``@hypercall("name")`` and called as
``do_name(current, *args)`` where ``current`` is the calling Vcpu. Pointers to structs are dataclass
instances named after Xen's structs; the handler fills their OUT fields in place.

Simplifications:
- Arguments are Python objects rather than guest virtual addresses, so -EFAULT (a bad pointer) only
  arises where the model checks an address explicitly.
- No continuations: long batches run to completion in one call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import HYPERCALL_NAMES, HYPERCALL_NUMBERS, NR_hypercalls

Handler = Callable[..., int]


@dataclass
class HypercallEntry:
    nr: int
    name: str
    handler: Handler | None       # None: not implemented (do_ni_hypercall)
    privileged: bool = False      # refused with -EPERM for unprivileged callers before any argument check


# One slot per hypercall number, as hypercall_table in entry.S.
hypercall_table: dict[int, HypercallEntry] = {
    nr: HypercallEntry(nr, name, None) for nr, name in HYPERCALL_NAMES.items()
}


def hypercall(name: str, privileged: bool = False) -> Callable[[Handler], Handler]:
    """Register ``do_<name>`` in the hypercall table (decorator)."""
    if name not in HYPERCALL_NUMBERS:
        raise ValueError(f"{name!r} is not a Xen 3.0 hypercall name")

    def register(fn: Handler) -> Handler:
        nr = HYPERCALL_NUMBERS[name]
        hypercall_table[nr] = HypercallEntry(nr, name, fn, privileged)
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
        if entry is None or entry.handler is None:
            rc = -E.ENOSYS                         # do_ni_hypercall
        elif entry.privileged and not d.is_privileged:
            rc = -E.EPERM                          # IS_PRIV check comes before anything else
        else:
            rc = entry.handler(current, *args)
            if not isinstance(rc, int):
                raise TypeError(f"do_{name} returned {rc!r}; a hypercall returns an int")
        if trace.active:
            trace.emit("PV", "hypercall_ret", domid=d.domain_id, vcpu=current.vcpu_id, pcpu=current.processor,
                       nr=nr, op=name, rc=rc, errno=E.errno_name(rc))
    return rc


def implemented() -> dict[str, bool]:
    return {e.name: e.handler is not None for e in sorted(hypercall_table.values(), key=lambda e: e.nr)}

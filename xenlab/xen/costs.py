"""What crossing into Xen costs: simulated cycles for hypercalls, traps, VM exits and world switches.

The model's clock does not run while Xen works, so the price of each crossing is charged here:
cycles are counted per vcpu and per kind, converted to ns with the CPU's TSC frequency, and, with
``machine.costs.charge_time = True``, added to the next computation of the vcpu's workload (the
guest's work then finishes later, as it would).
This is what makes a paravirtualised guest and a hardware-assisted one doing the same work
measurably different.

Where the defaults come from (SOSP'03, 2.4 GHz Xeon, lmbench in ``reference/papers.md``):
- a fault taken by Xen and bounced to the guest: "prot fault" is 1.40 us on Xen against 1.06 us
  native, 0.34 us ~ 800 cycles;
- a system call through the direct trap gate costs what it costs natively ("null call" 0.46 vs
  0.45 us), so the extra is close to nothing;
- a context switch costs Xen 1-3 us more than native ("2 us" ~ 4800 cycles for a world switch).

Simplifications:
- The hypercall, emulation and VM-exit figures are order-of-magnitude values for CPUs of 2005-2006
  (first VT processors spent a few thousand cycles on an exit and entry) [unverified]; they are
  plain fields, so a notebook can change them and see the effect.
- No caches or TLB effects: a crossing always costs the same.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

KINDS = ("hypercall", "trap", "emulate", "syscall_direct", "vmexit", "world_switch", "upcall")


@dataclass
class CostModel:
    hypercall: int = 500          # int $0x82, table dispatch, iret back to ring 1
    trap: int = 800               # exception into Xen plus a bounce frame to the guest handler
    emulate: int = 1000           # decoding and emulating one privileged instruction in Xen
    syscall_direct: int = 20      # int $0x80 through the direct trap gate: no Xen at all
    vmexit: int = 2500            # VM exit, Xen's exit handler, VM entry (VT, 2005-2006)
    world_switch: int = 4800      # switching to another domain (dom0's device model) and back
    upcall: int = 300             # event callback bounce frame
    enabled: bool = True          # count cycles at all
    charge_time: bool = False     # also delay the guest's next computation by them (off: timings of
                                  # other chapters stay exact; the CPU chapter turns it on)

    def cycles(self, kind: str) -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown cost kind {kind!r}; kinds: {', '.join(KINDS)}")
        return getattr(self, kind) if self.enabled else 0

    def table(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in KINDS}


def charge(v, kind: str, count: int = 1) -> int:
    """Charge ``count`` crossings of ``kind`` to vcpu ``v``; returns the ns added to its work."""
    machine = v.domain.machine
    cycles = machine.costs.cycles(kind) * count
    per_vcpu = getattr(v, "overhead", None)
    if per_vcpu is None:
        per_vcpu = v.overhead = {}
    per_vcpu[kind] = per_vcpu.get(kind, 0) + count
    v.overhead_cycles = getattr(v, "overhead_cycles", 0) + cycles
    machine.stats[f"cost.{kind}"] = machine.stats.get(f"cost.{kind}", 0) + count
    machine.stats["cost.cycles"] = machine.stats.get("cost.cycles", 0) + cycles
    ns = cycles * 1_000_000_000 // machine.cpus[v.processor].tsc_hz
    guest = v.guest
    if guest is not None and hasattr(guest, "overhead_ns"):
        guest.overhead_ns += ns
    return ns


def overhead_summary(d) -> dict[str, int]:
    """Crossings per kind over all vcpus of a domain, plus the total cycles."""
    out = {k: 0 for k in KINDS}
    cycles = 0
    for v in d.vcpus:
        for k, n in getattr(v, "overhead", {}).items():
            out[k] += n
        cycles += getattr(v, "overhead_cycles", 0)
    out["cycles"] = cycles
    return out

"""Physical CPUs: privilege ring, control registers and the cycle counter (TSC).

Simplifications:
- The TSC is derived from the virtual clock (``rdtsc(now) = now * tsc_hz / 1e9`` plus a per-CPU
  offset), so it is exact and never drifts; real TSCs drift and Xen recalibrates them every second.
- No real instruction stream: what a CPU "executes" is decided by the guest models.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PhysicalCPU:
    id: int
    tsc_hz: int = 2_000_000_000          # cycles per second (a 2 GHz CPU by default)
    tsc_offset: int = 0                  # cycles at system time 0 (CPUs start at different counts)
    ring: int = 0                        # current privilege level (CPL): Xen runs in ring 0
    cr3: int = 0                         # machine address of the current page-table root
    cr2: int = 0                         # last faulting linear address
    hvm_capable: bool = False            # AMD-V ("Pacifica") / Intel VT ("Vanderpool")
    curr: object = None                  # the running Vcpu (the idle vcpu when nothing else runs)
    idle: object = None                  # this CPU's idle vcpu
    softirq_pending: int = 0             # bitmask of raised softirqs
    in_multicall: bool = False           # mc_state[cpu].flags & _MCSF_in_multicall (xen/common/multicall.c)
    stats: dict = field(default_factory=dict)
    gates: dict = field(default_factory=dict)   # what Xen programmed: IDT gates, VM-exit entry (hw/idt.py, hw/vmx.py)
    guest_esp: int | None = None         # ESP a guest handler starts with after the last gate (hw/idt.py)

    def rdtsc(self, now_ns: int) -> int:
        """Cycle counter at system time ``now_ns`` (integer arithmetic, no floats)."""
        return self.tsc_offset + now_ns * self.tsc_hz // 1_000_000_000

    def __repr__(self) -> str:
        cur = getattr(self.curr, "label", None) or "-"
        return f"<pCPU{self.id} ring {self.ring} cr3={self.cr3:#x} running {cur}>"

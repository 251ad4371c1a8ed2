"""A domain's configuration: what ``xm create`` reads from a config file.

This is xend's business, not Xen's (X@RELEASE-3.0.0:tools/python/xen/xend/XendDomainInfo.py keeps it;
Xen knows a domain only by its id, pages and vcpus), so it lives in the toolstack. ``xenlab``
re-exports ``DomainConfig`` and ``DomainCreateError`` for notebooks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ON_ACTIONS = ("destroy", "restart", "preserve", "rename-restart")



class DomainCreateError(ValueError):
    """A domain cannot be built as configured (no HVM support, no memory, bad parameters)."""


@dataclass
class DomainConfig:
    """What ``xm create`` reads from a config file (X@RELEASE-3.0.0:tools/examples/xmexample1)."""
    name: str
    memory: int = 128                     # MiB (xm's default)
    maxmem: int | None = None             # MiB; defaults to memory
    vcpus: int = 1
    kind: str = "pv"                      # "pv" (paravirtualised) or "hvm" (hardware-assisted)
    kernel: str = "/boot/vmlinuz-2.6.16-xen"
    ramdisk: str = ""
    extra: str = ""                       # appended to the kernel command line
    root: str = ""
    workload: Any = "idle"                # a preset name or a guest.workload.Program
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "restart"
    weight: int = 256                     # Credit scheduler weight
    cap: int = 0                          # Credit cap, percent of one pCPU (0 = none)
    sched_params: dict = field(default_factory=dict)   # other schedulers' parameters
    cpus: str | None = None               # affinity, e.g. "0-1"
    disk: list = field(default_factory=list)
    vif: list = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or any(c.isspace() for c in self.name):
            raise DomainCreateError(f"name must be a non-empty word, got {self.name!r}")
        if self.kind not in ("pv", "hvm"):
            raise DomainCreateError(f"kind must be 'pv' or 'hvm', got {self.kind!r}")
        for key in ("memory", "vcpus"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise DomainCreateError(f"{key} must be a positive whole number, got {value!r}")
        if self.vcpus > 32:
            raise DomainCreateError(f"vcpus={self.vcpus}: Xen 3.0 allows at most 32 (MAX_VIRT_CPUS)")
        if self.maxmem is None:
            self.maxmem = self.memory
        if self.maxmem < self.memory:
            raise DomainCreateError(f"maxmem ({self.maxmem} MiB) is below memory ({self.memory} MiB)")
        for key in ("on_poweroff", "on_reboot", "on_crash"):
            if getattr(self, key) not in ON_ACTIONS:
                raise DomainCreateError(f"{key}={getattr(self, key)!r}: must be one of {', '.join(ON_ACTIONS)}")

    @property
    def cmdline(self) -> str:
        return " ".join(s for s in (f"root={self.root}" if self.root else "", self.extra) if s)

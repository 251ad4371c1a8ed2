"""The hypervisor: one module per Xen source area, named after it.

Importing this package registers every hypercall handler in xen/hypercall.py's table. Subsystems
that later chapters add are imported here when their module exists.
"""
import importlib

# Modules whose import registers hypercall handlers (order is irrelevant; each owns its numbers).
SUBSYSTEMS = ("schedule", "evtchn", "dom0_ops", "kernel", "console",
              "mm", "gnttab", "traps", "time", "physdev", "hvm", "multicall", "vcpu")

for _name in SUBSYSTEMS:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:          # a chapter that has not landed yet
        if _exc.name != f"{__name__}.{_name}":
            raise

"""IPython magics `%xm` and `%xentop` for the machine the notebook is working with.

    import xenlab
    m = xenlab.Machine(seed=0)
    xenlab.use(m)                 # the machine the magics talk to (also loads the extension)
    %xm create name=web memory=64
    %xm list
    %xentop

`%load_ext xenlab.magics` loads the extension by hand. IPython is imported only inside the functions
that need it, so the model stays usable without Jupyter.
"""
from __future__ import annotations

_current = None


def use(machine):
    """Make `machine` the one %xm and %xentop act on (and load the magics if IPython is running)."""
    global _current
    _current = machine
    try:
        from IPython import get_ipython
    except ImportError:
        return machine
    ip = get_ipython()
    if ip is not None and "xm" not in ip.magics_manager.magics.get("line", {}):
        load_ipython_extension(ip)
    return machine


def current():
    """The machine registered with `use()`; a clear error when there is none."""
    if _current is None:
        raise RuntimeError("no machine selected: call xenlab.use(machine) first "
                           "(e.g. m = xenlab.Machine(); xenlab.use(m))")
    return _current


def run_xm(line: str):
    """What %xm does: run the xm command line on the current machine and return its result."""
    from xenlab.toolstack.xm import XmError, xm
    try:
        return xm(current(), line)
    except XmError as exc:
        print(exc)
        return None


def run_xentop(line: str = ""):
    """What %xentop does: one batch-mode xentop frame (xm top) of the current machine."""
    return run_xm(("top " + line).strip())


def load_ipython_extension(ipython) -> None:
    ipython.register_magic_function(run_xm, magic_kind="line", magic_name="xm")
    ipython.register_magic_function(run_xentop, magic_kind="line", magic_name="xentop")


def unload_ipython_extension(ipython) -> None:
    """Magics cannot be unregistered in IPython; forget the machine instead."""
    global _current
    _current = None

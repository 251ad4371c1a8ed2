"""Xen's console and console_io (X@RELEASE-3.0.0:xen/drivers/char/console.c).

Xen keeps a ring of its own log (``xm dmesg`` reads it with DOM0_READCONSOLE). In 3.0 only dom0 may
write to it with console_io, unless Xen is a VERBOSE (debug) build: ``Machine(verbose=True)``.
Guests normally write to their own console ring page, which dom0's console daemon reads (dom0/console.py).

Simplifications:
- VIRQ_CONSOLE is never raised. In 3.0 its only sender is ``__serial_rx``: a character typed on the
  serial line while input goes to dom0 is queued in ``serial_rx_ring`` and
  ``send_guest_virq(dom0->vcpu[0], VIRQ_CONSOLE)`` tells dom0 to read it with CONSOLEIO_read. New
  output in Xen's console ring raises nothing in 3.0 (modern Xen's VIRQ_CON_RING, 8, does that), and
  the model has no serial input, so CONSOLEIO_read always returns 0 bytes.
"""
from __future__ import annotations

from xenlab.xen.hypercall import hypercall
from xenlab.xen.public import errno as E
from xenlab.xen.public.xen import CONSOLEIO_read, CONSOLEIO_write

CONRING_SIZE = 16384    # bytes of Xen's console ring


def printk(machine, text: str) -> None:
    """Append to Xen's console ring (what ``xm dmesg`` shows)."""
    ring = machine.console_ring
    ring.append(text if text.endswith("\n") else text + "\n")
    while sum(len(s) for s in ring) > CONRING_SIZE and len(ring) > 1:
        ring.pop(0)


@hypercall("console_io")
def do_console_io(current, cmd: int, count: int, buf) -> int:
    machine = current.domain.machine
    d = current.domain
    if not d.is_privileged and not machine.verbose:
        return -E.EPERM
    if cmd == CONSOLEIO_write:
        if not isinstance(buf, (str, bytes)) or count < 0:
            return -E.EFAULT
        text = buf[:count]
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        prefix = "" if d.domain_id == 0 else f"(d{d.domain_id}) "
        printk(machine, prefix + text)
        d.console_output.append(text)
        machine.trace.emit("PV", "console_write", domid=d.domain_id, text=text)
        return 0
    if cmd == CONSOLEIO_read:
        return 0            # no serial input in the model
    return -E.ENOSYS

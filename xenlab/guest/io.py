"""I/O operations of guest workloads: ("io", ...) ops run through the guest's split-driver frontends.

    ("io", "blk", dev, "read", sector, nr_sectors)         read from virtual disk ``dev`` (e.g. "xvda")
    ("io", "blk", dev, "write", sector, nr_sectors, byte)  write sectors filled with ``byte``
    ("io", "blk", dev, "probe")                            Xen 2.0 PROBE: list the virtual disks
    ("io", "net", "ping", ip, size[, timeout_ns])          ICMP echo of ``size`` payload bytes to ``ip``

The vcpu starts the operation, then blocks (SCHEDOP_block) until the frontend's interrupt handler
completes it; a ping also arms ``set_timer_op`` for its timeout. Each finished op is appended to
``kernel.io_log`` as (time, op, result).

Simplifications:
- One outstanding op per vcpu: the workload waits for each I/O (synchronous I/O, like ``dd oflag=direct``).
- An op on a device whose front end is not Connected yet blocks until an event comes, then looks again.
"""
from __future__ import annotations

from xenlab.xen.public.xen import SCHEDOP_block

PING_TIMEOUT_NS = 1_000_000_000


def _start(kernel, op):
    kind = op[1]
    if kind == "blk":
        dev, what = op[2], op[3]
        vbd = getattr(kernel, "vbds", {}).get(dev)
        if vbd is None:
            raise ValueError(f"{kernel.d.name}: no virtual disk {dev!r} (has {sorted(getattr(kernel, 'vbds', {}))})")
        if what == "read":
            return vbd.read(op[4], op[5])
        if what == "write":
            fill = op[6] if len(op) > 6 else 0xA5
            return vbd.write(op[4], bytes([fill]) * (op[5] * 512))
        if what == "probe":
            return vbd.probe()
        raise ValueError(f"unknown block operation {what!r} (read, write, probe)")
    if kind == "net":
        stack = getattr(kernel, "net", None)
        if stack is None:
            raise ValueError(f"{kernel.d.name}: no network interface")
        if op[2] == "ping":
            timeout = op[5] if len(op) > 5 else PING_TIMEOUT_NS
            return stack.ping(op[3], op[4], timeout_ns=timeout)
        raise ValueError(f"unknown network operation {op[2]!r} (ping)")
    raise ValueError(f"unknown io device class {kind!r} (blk, net)")


def _connecting(kernel, op) -> bool:
    """The device of ``op`` exists but its front end is not Connected yet (the xenbus handshake is
    still running on its watches): the process waits, as one opening a disk that is not there yet."""
    from xenlab.xen.public.io.xenbus import XenbusState
    if op[1] == "blk":
        vbd = getattr(kernel, "vbds", {}).get(op[2])
        return vbd is not None and vbd.state != XenbusState.Connected
    vifs = getattr(kernel, "vifs", [])
    return bool(vifs) and vifs[0].tx is None


def do_io(kernel, v, op) -> bool:
    ctx = v.guest
    machine = kernel.d.machine
    token = getattr(ctx, "io_wait", None)
    if token is None and _connecting(kernel, op):
        ctx.pc -= 1                            # the next event (the watch that connects it) brings us back
        kernel.hypercall(v, "sched_op", SCHEDOP_block)
        return False
    if token is None:
        token = _start(kernel, op)
        deadline = getattr(token, "deadline", None)
        if deadline is not None:
            kernel.hypercall(v, "set_timer_op", deadline)
    if not token.done and getattr(token, "deadline", None) is not None and machine.now >= token.deadline:
        token.timeout()
    if token.done:
        ctx.io_wait = None
        log = kernel.__dict__.setdefault("io_log", [])
        log.append((machine.now, op, token))
        if len(log) > 2000:
            del log[:1000]                     # keep the recent past only
        return True
    ctx.io_wait = token
    ctx.pc -= 1                                # come back to this op when woken
    kernel.hypercall(v, "sched_op", SCHEDOP_block)
    return False

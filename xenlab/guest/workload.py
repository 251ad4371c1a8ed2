"""Workloads: programs stored as data, run by a guest vcpu with a program counter.

A program is a tuple of operations; the vcpu's context keeps ``pc`` and the time left in the current
computation, so a machine can be deep-copied, saved or migrated mid-program (no Python generators).

Operations:
    ("compute", ns)             use the CPU for ns nanoseconds (preemptible)
    ("block",)                  SCHEDOP_block: sleep until any event arrives
    ("sleep", ns)               set_timer_op(now + ns), then block until that timer's VIRQ_TIMER
    ("yield",)                  SCHEDOP_yield
    ("hypercall", name, *args)  any hypercall
    ("console", text)           write a line to the domain's console
    ("shutdown", reason)        SCHEDOP_shutdown with "poweroff", "reboot", "crash" or "suspend"
    ("loop", target, count)     jump to op ``target``; count None = for ever, else that many times
    ("dirty", pages_per_sec, working_set_pages[, first_pfn])
                                from now on, every compute writes that many pages per second round
                                the working set (guest/dirty.py; ("dirty", 0, 0) stops)
    ("syscall", nr)             a process makes system call nr (int $0x80)            } the CPU chapter,
    ("fault", vector[, addr])   a process takes exception ``vector`` (14: page fault)  } guest/cpu.py
    ("fpu",)                    a process uses the FPU after a task switch (#NM)       }
    ("switch",)                 a process switch (PV: mmuext_op + one multicall)      }
    ("priv", insn, *operands)   the kernel needs write_cr3/hlt/lgdt/in/out/cli/sti     }
    ("insn", insn, ring, *ops)  that raw instruction executed in ring 1 or 3           }
"""
from __future__ import annotations

from dataclasses import dataclass

MS = 1_000_000
US = 1_000

OPCODES = ("compute", "block", "sleep", "yield", "hypercall", "console", "shutdown", "loop", "io", "mark",
           "syscall", "fault", "fpu", "priv", "insn", "switch")
PRIVILEGED_INSNS = ("write_cr3", "hlt", "lgdt", "out", "in", "cli", "sti")
OPCODES += ("dirty",)                   # memory writes for live migration (guest/dirty.py)


@dataclass(frozen=True)
class Program:
    name: str
    ops: tuple

    def __post_init__(self):
        for i, op in enumerate(self.ops):
            if not isinstance(op, tuple) or not op or op[0] not in OPCODES:
                raise ValueError(f"program {self.name!r}, op {i}: {op!r} is not one of {OPCODES}")
            if op[0] in ("compute", "sleep") and (len(op) != 2 or not isinstance(op[1], int) or op[1] < 0):
                raise ValueError(f"program {self.name!r}, op {i}: {op[0]} takes a whole number of ns >= 0")
            if op[0] in ("priv", "insn") and (len(op) < 2 or op[1] not in PRIVILEGED_INSNS):
                raise ValueError(f"program {self.name!r}, op {i}: {op[0]} needs one of {PRIVILEGED_INSNS}")
            if op[0] == "insn" and (len(op) < 3 or op[2] not in (1, 3)):
                raise ValueError(f"program {self.name!r}, op {i}: insn needs a ring, 1 (kernel) or 3 (user)")
            if op[0] == "fault" and (len(op) < 2 or not isinstance(op[1], int) or not 0 <= op[1] < 32):
                raise ValueError(f"program {self.name!r}, op {i}: fault needs an exception vector 0..31")
            if op[0] == "dirty":
                from xenlab.guest.dirty import validate_op
                why = validate_op(op)
                if why:
                    raise ValueError(f"program {self.name!r}, op {i}: {why}")
            if op[0] == "loop":
                if not 0 <= op[1] < len(self.ops):
                    raise ValueError(f"program {self.name!r}, op {i}: loop target {op[1]} is outside the program")
                body = self.ops[op[1]:i]
                if not any(b[0] in ("compute", "sleep", "block", "yield", "io") for b in body):
                    raise ValueError(f"program {self.name!r}, op {i}: a loop must wait or compute, "
                                     "or it would spin in zero time")

    def __len__(self) -> int:
        return len(self.ops)


def cpu_bound(chunk_ns: int = 10 * MS) -> Program:
    return Program("cpu-bound", (("compute", chunk_ns), ("loop", 0, None)))


def interactive(burst_ns: int = 1 * MS, think_ns: int = 20 * MS) -> Program:
    """Short bursts of work, then wait (like a shell or a web server answering requests)."""
    return Program("interactive", (("compute", burst_ns), ("sleep", think_ns), ("loop", 0, None)))


def idle() -> Program:
    return Program("idle", (("block",), ("loop", 0, None)))


def periodic(period_ns: int, exec_ns: int) -> Program:
    """A real-time task: exec_ns of work every period_ns (multimedia, as Atropos was built for)."""
    return Program("periodic", (("mark", "release"), ("compute", exec_ns), ("mark", "done"),
                                ("sleep", max(0, period_ns - exec_ns)), ("loop", 0, None)))


def kernel_mix(rounds: int | None = None, compute_ns: int = 200 * US) -> Program:
    """The CPU chapter's work: system calls, page faults, a TLB flush, FPU use and port I/O per round.

    The same program runs on a PV and an HVM guest, to count hypercalls, traps and VM exits.
    """
    return Program("kernel-mix", (
        ("compute", compute_ns),
        ("syscall", 4), ("syscall", 3), ("syscall", 20),
        ("fault", 14, 0x0804A000), ("fault", 14, 0x0804B000),
        ("priv", "write_cr3"),
        ("fpu",),
        ("priv", "out", 0x80, 0x42),
        ("priv", "cli"), ("priv", "sti"),
        ("loop", 0, rounds)))


def io_bound(compute_ns: int = 200 * US, nr_sectors: int = 64, dev: str | None = "xvda", sector: int = 0,
             device_ns: int | None = None) -> Program:
    """An I/O-driven domain: a short computation, then a synchronous read from virtual disk ``dev``.

    Each round computes ``compute_ns``, then reads ``nr_sectors`` sectors with the ("io", "blk", ...) op:
    blkfront puts the request on the ring, the vcpu blocks, and it wakes when blkback's answer arrives
    (dom0 must run to serve it). The domain needs that disk (``disk=["file:IMG,xvda,w"]``).

    ``dev=None`` is the fallback for a domain without a disk: a sleep of ``device_ns`` (by default what
    blkback's disk takes for the request, ``device_time_ns``) stands for the device, and the program is
    named "io-bound (no disk: sleep)" so that nobody mistakes it for real I/O. The sleep wakes through
    the timer VIRQ instead of the block device's event channel; dom0 has nothing to do.
    """
    if dev is None:
        wait = device_time_ns(nr_sectors) if device_ns is None else device_ns
        return Program("io-bound (no disk: sleep)", (("compute", compute_ns), ("sleep", wait), ("loop", 0, None)))
    return Program("io-bound", (("compute", compute_ns), ("io", "blk", dev, "read", sector, nr_sectors),
                                ("loop", 0, None)))


def device_time_ns(nr_sectors: int) -> int:
    """What the model's disk takes to serve one request of ``nr_sectors`` (dom0/blkback.py's queue)."""
    from xenlab.hw.disk import DISK_REQUEST_NS, DISK_SECTOR_NS
    return DISK_REQUEST_NS + nr_sectors * DISK_SECTOR_NS


def compute_fraction(program: Program) -> float | None:
    """The share of one pCPU a vcpu running ``program`` asks for when it never waits for the CPU.

    Its compute time over compute plus waiting per pass through the ops: a ``sleep`` waits its length,
    a block read or write the disk's service time (``device_time_ns``), a ping two LAN hops. CPU-bound
    and kernel-mix programs give 1.0, ``idle`` 0.0; None when the program waits for something of
    unknown length (``block``, a probe), or is not a Program. Under contention a domain that
    waits after its work (interactive, io-bound) gets its work done later and asks for less: this is
    an upper bound of its demand.
    """
    if not isinstance(program, Program):
        return None
    cpu = wait = 0
    unknown = False
    for op in program.ops:
        kind = op[0]
        if kind == "compute":
            cpu += op[1]
        elif kind == "sleep":
            wait += op[1]
        elif kind == "io" and op[1] == "blk" and len(op) > 5 and op[3] in ("read", "write"):
            wait += device_time_ns(op[5])
        elif kind == "io" and op[1] == "net" and op[2] == "ping":
            from xenlab.hw.nic import LAN_LATENCY_NS
            wait += 2 * LAN_LATENCY_NS
        elif kind in ("block", "io"):
            unknown = True
    if cpu == 0:
        return 0.0
    if unknown:
        return None
    return cpu / (cpu + wait)


def finite(compute_ns: int, reason: str = "poweroff") -> Program:
    return Program("finite", (("compute", compute_ns), ("shutdown", reason)))


PRESETS = {"cpu-bound": cpu_bound, "interactive": interactive, "idle": idle, "kernel-mix": kernel_mix,
           "io-bound": io_bound}


def disk_names(config) -> list[str]:
    """The virtual disks a DomainConfig asks for ("file:/x.img,xvda,w" -> "xvda"), in order."""
    names = []
    for spec in getattr(config, "disk", None) or []:
        parts = str(spec).split(",")
        if len(parts) >= 2 and parts[1].strip():
            names.append(parts[1].strip().split(":")[0])
    return names


def resolve(workload, config=None) -> Program:
    """A preset name, a Program or a list of ops -> a Program.

    With the domain's ``config``, the "io-bound" preset reads the domain's first disk, or falls back to
    ``io_bound(dev=None)`` (a sleep standing for the device) when the domain has none.
    """
    if isinstance(workload, Program):
        return workload
    if isinstance(workload, str):
        if workload not in PRESETS:
            raise ValueError(f"unknown workload preset {workload!r}; presets: {', '.join(PRESETS)}")
        if workload == "io-bound" and config is not None:
            disks = disk_names(config)
            return io_bound(dev=disks[0] if disks else None)
        return PRESETS[workload]()
    if isinstance(workload, (list, tuple)):
        return Program("custom", tuple(tuple(op) for op in workload))
    raise TypeError(f"a workload is a preset name, a Program or a list of ops, got {workload!r}")

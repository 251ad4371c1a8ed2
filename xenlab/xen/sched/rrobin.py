"""Round Robin (X@RELEASE-2.0.0:xen/common/sched_rrobin.c).

Xen 2.0 shipped it "as a demonstration of the scheduler API": one FIFO run queue per CPU and a global
time slice, ``rr_slice``, of 10 ms. A vcpu that uses its slice goes to the tail; a waking vcpu joins
the tail and preempts only the idle vcpu.

Simplifications: none in the policy; Xen 2.0 scheduled domains (one vcpu each), the model schedules
vcpus, which is the same thing for single-vcpu domains.
"""
from __future__ import annotations

from collections import deque

from xenlab.xen.public import errno as E
from xenlab.xen.sched import Scheduler, SharePool, TaskSlice, register_scheduler

MILLISECS = 1_000_000
RR_DEFAULT_SLICE = 10 * MILLISECS


@register_scheduler
class RoundRobin(Scheduler):
    name = "Round-Robin Scheduler"
    opt_name = "rrobin"
    sched_id = 3                       # SCHED_RROBIN in Xen 2.0

    def __init__(self, machine):
        super().__init__(machine)
        self.rr_slice = RR_DEFAULT_SLICE
        self.runq = [deque() for _ in machine.cpus]

    def insert_vcpu(self, v) -> None:
        v.processor = self.pick_cpu(v)

    def remove_vcpu(self, v) -> None:
        q = self.runq[v.processor]
        if v in q:
            q.remove(v)

    def _on_runq(self, v) -> bool:
        return v in self.runq[v.processor]

    def wake(self, v) -> None:
        if v.is_running or self._on_runq(v):
            return
        self.runq[v.processor].append(v)
        if self.curr(v.processor).is_idle:
            self.tickle(v.processor)

    def sleep(self, v) -> None:
        if v.is_running:
            self.tickle(v.processor)
        elif self._on_runq(v):
            self.runq[v.processor].remove(v)

    def yield_(self, v) -> None:
        self.tickle(v.processor)

    def do_schedule(self, cpu: int, now: int) -> TaskSlice:
        q = self.runq[cpu]
        prev = self.curr(cpu)
        if not prev.is_idle and prev.runnable() and prev not in q:
            q.append(prev)           # used its slice (or yielded): to the tail
        if q:
            nxt = q.popleft()
            return TaskSlice(nxt, self.rr_slice, f"head of run queue ({len(q)} waiting)")
        return TaskSlice(self.idle_vcpu(cpu), self.rr_slice, "run queue empty")

    def adjust(self, d, params: dict) -> int:
        # Round Robin has no per-domain parameters; the slice is global (sched_ctl rrobin.slice).
        return -E.EINVAL if params else 0

    def set_slice(self, slice_ns: int) -> int:
        if slice_ns <= 0:
            return -E.EINVAL
        self.rr_slice = int(slice_ns)
        return 0

    def get_params(self, d) -> dict:
        return {"slice_ns": self.rr_slice}

    def sched_ctl(self, params: dict) -> int:
        """DOM0_SCHEDCTL: ``{"slice": ns}`` sets rr_slice."""
        if set(params) - {"slice"}:
            return -E.EINVAL
        return self.set_slice(params["slice"]) if "slice" in params else 0

    def get_ctl(self) -> dict:
        return {"slice": self.rr_slice}

    def share_pools(self, domains) -> list:
        """Equal turns: one pool of all pCPUs, one equal weight per vcpu, at most one pCPU per vcpu."""
        ncpu = len(self.machine.cpus)
        vcpus = {d.domain_id: len(d.vcpus) for d in domains}
        return [SharePool(float(ncpu), {}, dict(vcpus), {i: float(min(n, ncpu)) for i, n in vcpus.items()}, vcpus)]

    def dump(self) -> str:
        lines = [f"Scheduler: {self.name} (rrobin), slice {self.rr_slice // MILLISECS} ms"]
        for cpu, q in enumerate(self.runq):
            lines.append(f"  cpu{cpu}: running {self.curr(cpu).label}; runq: "
                         + (" ".join(v.label for v in q) or "-"))
        return "\n".join(lines)

"""Exercise 07 on the live model: the student's Round Robin as a real scheduler.

``register_student_rr(rr_do_schedule)`` registers ``sched="ex07-rr"``: a Scheduler whose do_schedule
calls the student's function with the pCPU's run queue (a list of vcpus), the current vcpu (None when
idle), whether it is still runnable, and the slice. ``playground(rr_do_schedule)`` runs the same
domains under Xen's Round Robin and the student's and shows both reports and the lab. Until the
function is written (or while it raises), the scheduler falls back to idle and says so.
"""
from __future__ import annotations

from xenlab.xen.sched import Scheduler, TaskSlice, register_scheduler

MS = 1_000_000


def register_student_rr(rr_do_schedule, opt_name: str = "ex07-rr"):
    class StudentRR(Scheduler):
        name = "Your Round Robin (exercise 07)"
        sched_id = 3                       # answers DOM0_ADJUSTDOM like Xen 2.0's rrobin
        problems: list = []

        def __init__(self, machine):
            super().__init__(machine)
            self.rr_slice = 10 * MS
            self.runq = [[] for _ in machine.cpus]

        def insert_vcpu(self, v):
            v.processor = self.pick_cpu(v)

        def remove_vcpu(self, v):
            if v in self.runq[v.processor]:
                self.runq[v.processor].remove(v)

        def wake(self, v):
            if not v.is_running and v not in self.runq[v.processor]:
                self.runq[v.processor].append(v)
                if self.curr(v.processor).is_idle:
                    self.tickle(v.processor)

        def sleep(self, v):
            if v.is_running:
                self.tickle(v.processor)
            elif v in self.runq[v.processor]:
                self.runq[v.processor].remove(v)

        def do_schedule(self, cpu, now):
            prev = self.curr(cpu)
            prev_arg = None if prev.is_idle else prev
            try:
                nxt, time = rr_do_schedule(self.runq[cpu], prev_arg, prev_arg is not None and prev.runnable(),
                                           self.rr_slice)
            except NotImplementedError:
                self.problems.append("not written yet")
                return TaskSlice(self.idle_vcpu(cpu), self.rr_slice, "rr_do_schedule is not written yet")
            if nxt is None:
                return TaskSlice(self.idle_vcpu(cpu), int(time), "your run queue is empty")
            if nxt.is_running and nxt is not prev:
                raise ValueError(f"rr_do_schedule picked {nxt.label}, which runs on another pCPU")
            return TaskSlice(nxt, int(time), "your rr_do_schedule")

    StudentRR.opt_name = opt_name
    return register_scheduler(StudentRR)


def playground(rr_do_schedule, duration_ns: int = 500 * MS):
    """Both Round Robins on the same domains; returns the lab widget for the two."""
    from xenlab.viz.schedlab import SchedLab, default_domains, simulate
    cls = register_student_rr(rr_do_schedule)
    specs = default_domains()
    for sched in ("rrobin", cls.opt_name):
        try:
            report = simulate(sched, specs, duration_ns)
            print(f"sched={sched}\n{report.table()}\n")
        except Exception as exc:                    # the student's code must not break the notebook
            print(f"sched={sched}: {type(exc).__name__}: {exc}\n")
    if cls.problems:
        print(f"{cls.opt_name}: rr_do_schedule is not written yet, so the CPU stayed idle.")
    try:
        return SchedLab(scheds=(cls.opt_name, "rrobin"), specs=specs, duration_ns=duration_ns)
    except Exception as exc:
        print(f"the lab could not start: {type(exc).__name__}: {exc}")
        return None

"""Exercise 07 on the live model: the student's four steps as real schedulers.

``register_student_rr(rr_do_schedule)`` registers ``sched="ex07-rr"``: a Scheduler whose do_schedule
calls the student's function with the pCPU's run queue (a list of vcpus), the current vcpu (None when
idle), whether it is still runnable, and the slice. Until the function is written (or while it
raises), the scheduler falls back to idle and says so.

``register_student_schedulers(...)`` also registers ``ex07-bvt`` (Xen's BVT charging with
``bvt_charge`` and picking with ``bvt_pick``), ``ex07-atropos`` (Atropos picking with
``atropos_pick``) and ``ex07-credit`` (Credit accounting with ``credit_acct``) through
xen/sched/plugged.py; each function is guarded (viz/student.py): a stub, an exception or a loop is
reported and Xen's own step is used instead.

``playground(...)`` runs the same domains under each built-in scheduler and the student's variant,
prints both reports and returns the scheduler lab with all of them.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.i18n.narration import say
from xenlab.xen.sched import Scheduler, TaskSlice, register_scheduler

MS = 1_000_000


def register_student_rr(rr_do_schedule, opt_name: str = "ex07-rr"):
    class StudentRR(Scheduler):
        name = t("viz.ex07.rr_name")
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
                self.problems.append(t("viz.exercise.not_written"))
                return TaskSlice(self.idle_vcpu(cpu), self.rr_slice, t("viz.ex07.rr_not_written"))
            if nxt is None:
                return TaskSlice(self.idle_vcpu(cpu), int(time), t("viz.ex07.rr_empty"))
            if nxt.is_running and nxt is not prev:
                raise ValueError(t("viz.ex07.rr_elsewhere", vcpu=nxt.label))
            return TaskSlice(nxt, int(time), t("viz.ex07.rr_yours"))

    StudentRR.opt_name = opt_name
    return register_scheduler(StudentRR)


STUDENT_SCHEDS = (("ex07-rr", "rrobin"), ("ex07-bvt", "bvt"), ("ex07-atropos", "atropos"),
                  ("ex07-credit", "credit"))


def register_student_schedulers(rr_do_schedule=None, bvt_charge=None, bvt_pick=None, atropos_pick=None,
                                credit_acct=None) -> dict:
    """Register the four ex07-* schedulers; returns opt_name -> the guards of its functions."""
    from xenlab.viz.student import Guarded
    from xenlab.xen.sched.plugged import plug_scheduler

    def guard(fn):
        return Guarded(fn, 1.0, not_written=t("viz.exercise.not_written"), timed_out=t("viz.exercise.timeout", s=1.0))
    register_student_rr(rr_do_schedule)
    guards = {"ex07-rr": {}, "ex07-bvt": {"bvt_charge": guard(bvt_charge), "bvt_pick": guard(bvt_pick)},
              "ex07-atropos": {"atropos_pick": guard(atropos_pick)},
              "ex07-credit": {"credit_acct": guard(credit_acct)}}
    plug_scheduler("bvt", "ex07-bvt", t("viz.ex07.bvt_name"),
                   charge=guards["ex07-bvt"]["bvt_charge"], pick=guards["ex07-bvt"]["bvt_pick"])
    plug_scheduler("atropos", "ex07-atropos", t("viz.ex07.atropos_name"), pick=guards["ex07-atropos"]["atropos_pick"])
    plug_scheduler("credit", "ex07-credit", t("viz.ex07.credit_name"), acct=guards["ex07-credit"]["credit_acct"])
    return guards


def playground(rr_do_schedule=None, bvt_charge=None, bvt_pick=None, atropos_pick=None, credit_acct=None,
               duration_ns: int = 500 * MS):
    """Xen's four schedulers and the student's on the same domains; returns the lab widget for all."""
    from xenlab.viz.schedlab import SchedLab, default_domains, simulate
    from xenlab.xen.sched import get_scheduler
    guards = register_student_schedulers(rr_do_schedule, bvt_charge, bvt_pick, atropos_pick, credit_acct)
    specs = default_domains()
    working = []
    for mine, xens in STUDENT_SCHEDS:
        cls = get_scheduler(mine)
        cls.problems.clear()
        for sched in (xens, mine):
            try:
                report = simulate(sched, specs, duration_ns)
                print(f"sched={sched}\n{say(report.table())}")
                if sched == mine:
                    working.append(mine)
            except Exception as exc:                # the student's code must not break the notebook
                print(f"sched={sched}: {type(exc).__name__}: {exc}")
        for name, g in guards[mine].items():
            if g.problem is not None:
                print(t("viz.ex07.step_used", name=name, problem=g.problem))
        if mine == "ex07-rr" and cls.problems:
            print(t("viz.ex07.rr_idle", sched=mine))
        elif cls.problems:
            print(t("viz.ex07.unusable", sched=mine, n=len(cls.problems), first=cls.problems[0]))
        print()
    try:
        return SchedLab(scheds=tuple(working) + tuple(x for _, x in STUDENT_SCHEDS), specs=specs,
                        duration_ns=duration_ns)
    except Exception as exc:
        print(t("viz.ex07.no_lab", error=f"{type(exc).__name__}: {exc}"))
        return None

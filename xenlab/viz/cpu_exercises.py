"""Exercises 05, 06 and 08 on the live model: the student's function next to what Xen does.

Each ``compare_*`` function builds a small machine, makes the real thing happen (an int $0x80, a page
fault, a send on a masked port, a guest reading its clock ...), calls the student's function on the
same inputs and returns text rows "agree"/"DIFFERS". A function that is not written yet, raises or
loops is reported as such; nothing here raises because of the student's code.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.viz.student import call_student

TIMEOUT_S = 1.0


def _call(fn, *args):
    return call_student(fn, TIMEOUT_S, *args, not_written=t("viz.exercise.not_written"),
                        timed_out=t("viz.exercise.timeout", s=TIMEOUT_S))


def bad_result(value, exc) -> str:
    """The problem shown when a student's answer has the wrong shape."""
    return t("viz.cpuex.bad_result", value=repr(value), error=exc)


def _row(label, yours, problem, xen) -> str:
    mark = t("viz.exercise.agree") if problem is None and yours == xen else t("viz.exercise.differs")
    return t("viz.cpuex.row", mark=mark, label=label, yours=str(problem or yours), xen=str(xen))


# -- ex05 ------------------------------------------------------------------------------------------------
def compare_route(route) -> str:
    import xenlab
    from xenlab.xen import traps as T
    m = xenlab.Machine(memory_mb=64, seed=0)
    d = m.create_domain(xenlab.DomainConfig(name="ex05", memory=8))
    d.pause()
    v = d.vcpus[0]
    table = {ti.vector: (ti.flags, ti.address) for ti in T.arch(v).trap_ctxt if ti.address}
    rows = []
    cases = [(0x80, 3, True), (14, 3, False), (3, 3, True), (14, 3, True), (6, 1, False), (0x81, 3, True)]
    for vector, ring, soft in cases:
        with m.trace.record("HW") as evs:
            if soft:
                T.software_interrupt(v, vector, from_ring=ring)
            else:
                T.do_trap(v, vector, None, from_ring=ring)
        paths = [e["path"] for e in evs if e.name == "ring"]
        bounce = [e["vector"] for e in evs if e.name == "bounce"]
        handler = bounce[-1] if bounce else (vector if paths and paths[-1] == (ring, 1) else None)
        xen = (handler, tuple(paths[-1])) if paths and handler is not None else None
        got, problem = _call(route, dict(table), vector, ring, soft)
        if problem is None and got is not None:
            try:
                got = (int(got[0]), tuple(int(r) for r in got[1]))
            except Exception as exc:
                problem = bad_result(got, exc)
        rows.append(_row(t("viz.cpuex.int" if soft else "viz.cpuex.exception", vector=vector, ring=ring),
                         got, problem, xen))
    return "\n".join(rows)


# -- ex06 ------------------------------------------------------------------------------------------------
def compare_set_pending(set_pending, unmask) -> str:
    import xenlab
    from xenlab.xen import event as XE
    from xenlab.xen.public import event_channel as ev
    from xenlab.xen.public.xen import SI_EVTCHN_MASK, SI_EVTCHN_PENDING
    rows = []
    scenarios = [("quiet", False, False), ("masked", True, False), ("twice", False, True)]   # viz.cpuex.set_pending.*
    for label, masked, twice in scenarios:
        m = xenlab.Machine(memory_mb=64, seed=0)
        d = m.create_domain(xenlab.DomainConfig(name="ex06", memory=8))
        d.pause()
        v = d.vcpus[0]
        ipi = ev.evtchn_bind_ipi(vcpu=0)
        d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_ipi, ipi))
        XE.vcpu_info_write(v, "evtchn_upcall_pending", 0)
        XE.vcpu_info_write(v, "evtchn_pending_sel", 0)
        if masked:
            XE.test_and_set_bit(d, SI_EVTCHN_MASK, ipi.port)
        if twice:
            XE.evtchn_set_pending(v, ipi.port)
        base, mem = d.shared_info_mfn << 12, m.memory
        state = lambda: (mem.read_u32(base + SI_EVTCHN_PENDING), mem.read_u32(base + SI_EVTCHN_MASK),  # noqa: E731
                         XE.vcpu_info_read(v, "evtchn_pending_sel"), XE.vcpu_info_read(v, "evtchn_upcall_pending"))
        p, mk, s, u = state()
        with m.trace.record("EVTCHN") as evs:
            XE.evtchn_set_pending(v, ipi.port)
        p2, _, s2, u2 = state()
        kicked = evs[-1]["outcome"] == "upcall"
        got, problem = _call(set_pending, p, mk, s, u, ipi.port)
        if problem is None:
            got = tuple(int(x) for x in got)
        rows.append(_row(t(f"viz.cpuex.set_pending.{label}"), got, problem, (p2, s2, u2, int(kicked))))
        if masked:
            p, mk, s, u = state()
            d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_unmask, ev.evtchn_unmask(ipi.port)))
            _, mk2, s2, u2 = state()
            kicked = u2 == 1 and u == 0
            got, problem = _call(unmask, p, mk, s, u, ipi.port)
            if problem is None:
                got = tuple(int(x) for x in got)
            rows.append(_row(t("viz.cpuex.unmask"), got, problem, (mk2, s2, u2, int(kicked))))
    return "\n".join(rows)


# -- ex08 ------------------------------------------------------------------------------------------------
def compare_system_time(system_time_ns, tsc_scale) -> str:
    import xenlab
    from xenlab.guest.cpu import guest_system_time
    from xenlab.xen.time import read_vcpu_time_info, set_time_scale
    rows = []
    for mhz in (100, 1000, 2394, 3000):
        m = xenlab.Machine(memory_mb=64, seed=0, tsc_mhz=mhz)
        d = m.create_domain(xenlab.DomainConfig(name="ex08", memory=8, workload="cpu-bound"))
        m.run_for(1_500_000_000 + mhz)
        v = d.vcpus[0]
        info = read_vcpu_time_info(v)
        tsc = m.cpus[v.processor].rdtsc(m.now)
        got, problem = _call(system_time_ns, tsc, info["system_time"], info["tsc_timestamp"],
                             info["tsc_to_system_mul"], info["tsc_shift"])
        rows.append(_row(t("viz.cpuex.system_time", mhz=mhz), got, problem, guest_system_time(v)))
        s = set_time_scale(mhz * 1_000_000)
        got, problem = _call(tsc_scale, mhz * 1_000_000)
        if problem is None:
            try:
                got = tuple(int(x) for x in got)
            except Exception as exc:
                problem = bad_result(got, exc)
        rows.append(_row(f"tsc_scale({mhz} MHz)", got, problem, (s.mul_frac, s.shift)))
    return "\n".join(rows)

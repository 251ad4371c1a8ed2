"""The trace bus: filtering, recording, causes, broken subscribers, determinism."""
import pytest

import xenlab


def busy_machine(seed=0, **kw):
    m = xenlab.Machine(seed=seed, **kw)
    xenlab.xm(m, 'create name=a memory=16 workload="cpu-bound"')
    xenlab.xm(m, 'create name=b memory=16 workload="interactive"')
    return m


def test_record_collects_events_with_time_and_class():
    m = busy_machine()
    with m.trace.record() as events:
        m.run_for(50_000_000)
    assert events, "a busy machine emits events"
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert all(0 <= e.time <= m.now for e in events)
    switches = [e for e in events if e.cls == "SCHED" and e.name == "switch"]
    assert switches and all(e.pcpu == 0 for e in switches)


def test_subscribe_filters_by_class_and_domain():
    m = busy_machine()
    got_sched, got_d2 = [], []
    m.trace.subscribe(got_sched.append, classes="SCHED")
    m.trace.subscribe(got_d2.append, domid=2)
    m.run_for(50_000_000)
    assert got_sched and {e.cls for e in got_sched} == {"SCHED"}
    assert got_d2 and {e.domid for e in got_d2} == {2}


def test_unknown_class_is_refused():
    m = xenlab.Machine()
    with pytest.raises(ValueError, match="unknown trace class"):
        m.trace.subscribe(print, classes=["SCHEDULER"])


def test_raising_subscriber_is_reported_unsubscribed_and_machine_keeps_running(capsys):
    m = busy_machine()
    calls = []

    def broken(ev):
        calls.append(ev)
        raise RuntimeError("widget bug")
    m.trace.subscribe(broken)
    m.run_for(30_000_000)
    assert len(calls) == 1
    assert "widget bug" in m.trace.errors[0] and "unsubscribed" in m.trace.errors[0]
    assert m.now == 30_000_000
    assert "widget bug" in capsys.readouterr().err


def test_hypercall_events_carry_decoded_args_result_and_cause():
    m = xenlab.Machine()
    with m.trace.record(classes="PV") as events:
        rc = m.dom0.hypercall("xen_version", 0)
    enter, ret = events
    assert (enter.name, enter["op"], enter["nr"], enter["args"]) == ("hypercall", "xen_version", 17, (0,))
    assert (ret.name, ret["rc"], ret["errno"]) == ("hypercall_ret", rc, str(rc))
    assert ret.cause == enter.seq


def test_same_seed_same_trace_event_by_event():
    def run(seed):
        m = busy_machine(seed, cpus=2)
        with m.trace.record() as events:
            m.run_for(200_000_000)
        return [(e.time, e.pcpu, e.domid, e.vcpu, e.cls, e.name, e.payload) for e in events], m
    first, m1 = run(7)
    second, m2 = run(7)
    assert first == second
    assert m1.domains[1].p2m == m2.domains[1].p2m
    _, m3 = run(8)
    assert m3.domains[1].p2m != m1.domains[1].p2m     # the seed decides frame placement


def test_no_subscriber_means_no_event_objects():
    m = xenlab.Machine()
    assert not m.trace.active
    assert m.trace.emit("SCHED", "x", a=1) is None


def test_snapshot_runs_exactly_like_the_original():
    m = busy_machine(seed=2)
    m.run_for(50_000_000)
    copy = m.snapshot()

    def go(x):
        with x.trace.record() as ev:
            x.run_for(100_000_000)
        return [(e.time, e.pcpu, e.cls, e.name, e.payload) for e in ev], x
    a, m = go(m)
    b, copy = go(copy)
    assert a == b
    assert copy.domains[1].console_output == m.domains[1].console_output
    assert copy.domains[1] is not m.domains[1]

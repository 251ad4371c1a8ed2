"""The CPU chapter's views without a browser: pure arrays first, then the widgets driven by clicks."""
import numpy as np
import pytest

import xenlab
from xenlab.guest.workload import kernel_mix
from xenlab.i18n import set_language
from xenlab.viz.clocks import PANELS, ClockRecorder, clock_panels, clock_series, sample_clocks, wall_text
from xenlab.viz.evtchn import (CELL_BOTH, CELL_MASKED, CELL_PENDING, delivery_frames, evtchn_grid,
                               frames_for_port, port_rows)
from xenlab.viz.hypercalls import (VMX_ROOT, decode, hypercall_counts, ring_arrays, ring_steps,
                                   tracer_rows)
from xenlab.xen.public import event_channel as ev


@pytest.fixture(scope="module")
def traced():
    m = xenlab.Machine(memory_mb=96, hvm=True)
    with m.trace.record() as events:
        pv = m.create_domain(xenlab.DomainConfig(name="pv", memory=16, workload=kernel_mix(3)))
        hv = m.create_domain(xenlab.DomainConfig(name="hv", memory=16, kind="hvm", workload=kernel_mix(3)))
        pv.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(999)))
        m.run_for(20_000_000)
    return m, pv, hv, events


def test_rows_match_calls_with_results_and_errno(traced):
    m, pv, hv, events = traced
    rows = tracer_rows(events, domid=pv.domain_id)
    assert rows and all(r["domid"] == pv.domain_id for r in rows)
    names = [r["name"] for r in rows]
    boot = [n for n in names if n in ("set_trap_table", "set_callbacks", "stack_switch")]
    assert boot[:3] == ["set_trap_table", "set_callbacks", "stack_switch"]
    bad = [r for r in rows if r["rc"] < 0]
    assert any(r["errno"] == "-EINVAL" and "evtchn_send(port=999)" in r["args"] for r in bad)
    assert tracer_rows(events, text="fpu_taskswitch") and all(
        r["name"] == "fpu_taskswitch" for r in tracer_rows(events, text="fpu_taskswitch"))


def test_counts_are_sorted_and_total(traced):
    m, pv, hv, events = traced
    rows = tracer_rows(events, domid=pv.domain_id)
    names, counts = hypercall_counts(rows)
    assert counts.sum() == len(rows)
    assert list(counts) == sorted(counts, reverse=True)
    assert dict(zip(names, counts)) == {k: v for k, v in pv.hypercall_counts.items()}


def test_ring_walk_pv_vs_hvm(traced):
    m, pv, hv, events = traced
    pv_steps = ring_steps(events, pv.domain_id)
    hv_steps = ring_steps(events, hv.domain_id)
    assert ("int80 direct trap gate", (3, 1)) in pv_steps          # fast system call: no ring 0
    assert ("exception", (3, 0, 1)) in pv_steps                    # page fault through Xen
    assert any(p == (1, 0, 1) for _, p in pv_steps)                # hypercalls
    assert any(p == (0, VMX_ROOT, 0) for _, p in hv_steps)         # VM exits
    assert not any(0 in p and 3 in p for _, p in hv_steps)
    a = ring_arrays(pv_steps, cursor=2)
    assert a["x"].shape == a["y"].shape and a["x"][0] == 0 and a["label"] == pv_steps[1][0]
    assert ring_arrays(pv_steps, 0)["x"].size == 0


def test_decode_nested_dataclasses():
    from xenlab.xen.trace import plain
    text = decode(plain((ev.evtchn_op(4, ev.evtchn_send(3)),)))
    assert text == "evtchn_op(cmd=EVTCHNOP_send, u=evtchn_send(port=3))"     # event_channel.h: 4
    assert decode(0xC0100000) == "0xc0100000"


def test_evtchn_grid_and_rows():
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="e", memory=8))
    d.pause()
    ipi = ev.evtchn_bind_ipi(vcpu=0)
    d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_bind_ipi, ipi))
    d.hypercall("event_channel_op", ev.evtchn_op(ev.EVTCHNOP_send, ev.evtchn_send(ipi.port)))
    g = evtchn_grid(d, 64)
    assert g["cells"].shape == (2, 32)
    assert g["cells"][0, ipi.port] == CELL_PENDING
    from xenlab.xen.event import test_and_set_bit
    from xenlab.xen.public.xen import SI_EVTCHN_MASK
    test_and_set_bit(d, SI_EVTCHN_MASK, 40)
    test_and_set_bit(d, SI_EVTCHN_MASK, ipi.port)
    g = evtchn_grid(d, 64)
    assert g["cells"][1, 8] == CELL_MASKED and g["cells"][0, ipi.port] == CELL_BOTH
    rows = port_rows(d)
    assert rows[0]["port"] == 0 and rows[0]["state"] == "reserved"
    assert any(r["port"] == ipi.port and r["state"] == "ipi" and r["pending"] for r in rows)


def test_delivery_frames_follow_the_four_steps():
    set_language("en")
    full = delivery_frames(pending=0, mask=0, sel=0, upcall_pending=0, port=35)
    assert [f["stopped"] for f in full if "stopped" in f] == ["upcall"]
    assert len(full) == 4 and full[-1]["sel"] == 0b10 and full[-1]["upcall"] == 1
    assert delivery_frames(1 << 35, 0, 0, 0, 35)[-1]["stopped"] == "already pending"
    assert delivery_frames(0, 1 << 35, 0, 0, 35)[-1]["stopped"] == "masked"
    assert delivery_frames(0, 0, 0b10, 0, 35)[-1]["stopped"] == "selector already set"
    assert delivery_frames(0, 0, 0b01, 1, 35)[-1]["stopped"] == "upcall already pending"
    assert "port 35" in full[0]["text"]


def test_frames_for_port_do_not_change_the_machine():
    m = xenlab.Machine(memory_mb=64)
    d = m.dom0
    before = m.memory.frame(d.shared_info_mfn).copy()
    frames = frames_for_port(d, 20)
    assert frames and np.array_equal(before, m.memory.frame(d.shared_info_mfn))


def test_clock_series_shows_virtual_time_stopping():
    m = xenlab.Machine(memory_mb=64)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, workload="cpu-bound"))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, workload="interactive"))
    rec = ClockRecorder(m)
    rec.run(40_000_000, every_ns=2_000_000)
    a.pause()
    rec.run(20_000_000, every_ns=2_000_000)
    s = clock_series(rec.samples)
    va = s[a.domain_id]["virtual_ms"]
    assert np.all(np.diff(va) >= 0)
    assert va[-1] == va[-10]                                   # paused: flat
    assert s[b.domain_id]["virtual_ms"][-1] < s[b.domain_id]["system_ms"][-1]
    assert np.all(np.diff(s[0]["system_ms"]) > 0)
    snap = sample_clocks(m)
    assert snap[a.domain_id]["wall_ns"] - snap[a.domain_id]["system_ns"] == 1133740800 * 10**9
    assert wall_text(1133740800 * 10**9 + 1500) == "2005-12-05 00:00:00.000001"


def test_clock_panels_four_clocks_of_several_domains_on_one_axis():
    m = xenlab.Machine(memory_mb=64)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8, workload="cpu-bound"))
    rec = ClockRecorder(m)
    rec.run(20_000_000, every_ns=2_000_000)
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8, workload="cpu-bound"))   # joins later
    rec.run(20_000_000, every_ns=2_000_000)
    a.pause()
    rec.run(20_000_000, every_ns=2_000_000)
    p = clock_panels(clock_series(rec.samples))
    assert p["domids"] == [0, a.domain_id, b.domain_id] and p["names"] == ["Domain-0", "a", "b"]
    assert set(p["y"]) == set(PANELS) == {"tsc", "system", "virtual", "wall"}
    rows, n = p["x"].shape
    assert rows == 3 and n == len(rec.samples)
    for panel in PANELS:
        assert p["y"][panel].shape == p["x"].shape
    # b has fewer samples: padded with NaN at the end, and its x starts where it joined
    nb = int(np.sum(~np.isnan(p["x"][2])))
    assert nb < n and np.all(np.isnan(p["x"][2][nb:])) and p["x"][2][0] >= 20.0
    assert p["x_max"] == pytest.approx(m.now / 1e6)
    x0 = p["x"][0]
    # shared x: the machine's system time; the guest-computed system time follows it
    assert np.all(np.diff(x0) > 0)
    assert np.allclose(p["y"]["system"][0], x0, atol=1e-3)
    # cycle counter: pCPU ticks at tsc_hz, in millions of cycles
    hz = m.cpus[0].tsc_hz
    assert np.allclose(np.diff(p["y"]["tsc"][0]), np.diff(x0) * hz / 1e9, rtol=1e-6)
    # wall clock: ms after the whole second of the first reading, advancing with system time
    assert p["wall_base_ns"] % 10**9 == 0 and p["wall_base"].startswith("2005-12-05 00:00:00")
    assert np.allclose(p["y"]["wall"][0] - x0, p["y"]["wall"][0][0] - x0[0], atol=1e-3)
    # virtual time: a's line goes flat while paused and is below system time once b shares the CPU
    va = p["y"]["virtual"][1]
    paused = x0 > 40.0 + 2.0
    assert np.ptp(va[paused]) == 0 and va[-1] < x0[-1]
    vb = p["y"]["virtual"][2][:nb]
    assert vb[-1] - vb[-5] > 0                               # b keeps running while a is paused
    empty = clock_panels({})
    assert empty["domids"] == [] and empty["x"].shape == (0, 0) and empty["x_max"] == 0.0


# -- widgets, driven without a browser -------------------------------------------------------------------------
def test_tracer_widget_runs_and_replays():
    pytest.importorskip("bqplot")
    from xenlab.viz.hypercalls import HypercallTracer
    m = xenlab.Machine(memory_mb=64)
    m.create_domain(xenlab.DomainConfig(name="k", memory=8, workload=kernel_mix(2)))
    view = HypercallTracer(m)
    buttons = view.widget.children[0].children[2], view.widget.children[4].children[0], view.widget.children[4].children[1]
    buttons[0].click()                                          # run 10 ms
    assert view.errors == [] and view.cursor is None            # at the last step: the walk is drawn
    assert "<table" in view.table.value and len(view.bars.x) > 0 and len(view.rings.x) > 0
    n = len(ring_steps(view.events))
    buttons[1].click()
    assert view.cursor == n - 1 and len(view.rings.x) > 0
    for _ in range(n - 4):                                      # back to the third step: the table follows
        buttons[1].click()
    from xenlab.viz.hypercalls import ring_step_seqs
    assert view.cursor == 3
    seq = ring_step_seqs(view.events)[2]                        # the third step's trace event
    shown = [r for r in tracer_rows(view.events) if r["seq"] <= seq + 1]
    assert view.table.value.count("<tr") == len(shown) + 1
    for _ in range(30):                                         # the programs end; a run still answers
        buttons[0].click()
    assert view.errors == [] and f"{m.now / 1e6:.1f} ms" in view.status.value
    view.filter.value = "set_timer_op"
    assert all(x == "set_timer_op" for x in view.bars.x)
    view.close()


def test_tracer_widget_shows_errors():
    pytest.importorskip("bqplot")
    from xenlab.viz.hypercalls import HypercallTracer
    m = xenlab.Machine(memory_mb=64)
    view = HypercallTracer(m)
    view.run_ns = -5                                            # run_for(-5) is refused by the machine
    view.widget.children[0].children[2].click()
    assert view.errors and "Error" in view.error_box.value or "Błąd" in view.error_box.value


def test_evtchn_and_clocks_widgets():
    pytest.importorskip("bqplot")
    from xenlab.viz.clocks import ClocksView
    from xenlab.viz.evtchn import EvtchnView
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="c", memory=8, workload="cpu-bound"))
    e = EvtchnView(m, d.domain_id)
    e.port.value = 3
    e.start_delivery(3)
    for _ in range(5):
        e.next_frame()
    assert e.errors == [] and e.caption.value
    assert e.grid.color.shape == (2, 32)
    c = ClocksView(m, run_ns=10_000_000, every_ns=2_000_000)
    c.run()
    c.which.value = d.domain_id
    c.toggle_pause()
    c.run()
    assert c.errors == [] and d.pause_count == 1
    assert set(c.lines) == set(PANELS) and len(c.figures) == 4
    for panel in PANELS:                                      # every clock, a line per domain
        assert np.asarray(c.lines[panel].y).shape == np.asarray(c.lines[panel].x).shape
        assert np.asarray(c.lines[panel].y).shape[0] == len(m.domains)
    assert all(f.marks[0].scales["x"] is c.sx for f in c.figures)   # one shared system-time axis
    assert c.sx.max == pytest.approx(m.now / 1e6) and "ms" in c.y_axes["wall"].label and "2005-12-05 00:00:00 UTC" in c.legend.value


def test_decode_names_commands_null_and_domid_self():
    # numbers from Xen 3.0's public headers: xen.h MMUEXT_TLB_FLUSH_LOCAL 6, SCHEDOP_shutdown 2,
    # SHUTDOWN_poweroff 0, DOMID_SELF 0x7FF0; FLAT_RING1_CS 0xe019
    args = ((("mmuext_op_t", ("cmd", 6), ("mfn", 0)),), 1, None, 0x7FF0)
    assert decode(args, op="mmuext_op") == "[mmuext_op_t(cmd=MMUEXT_TLB_FLUSH_LOCAL, mfn=0)], 1, NULL, DOMID_SELF"
    assert decode((2, ("sched_shutdown", ("reason", 0))), op="sched_op") == \
        "SCHEDOP_shutdown, sched_shutdown(reason=SHUTDOWN_poweroff)"
    assert decode((0xE019, 0xC0101000, 0xE019, 0xC0101010), op="set_callbacks").startswith("0xe019, 0xc0101000")
    long = tuple(("trap_info", ("vector", v)) for v in range(18))
    assert decode((long,), op="set_trap_table").endswith("… (18)]")


def test_evtchn_view_free_port_does_not_deliver_and_replay_text_follows_the_bits():
    pytest.importorskip("bqplot")
    from xenlab.viz.evtchn import EvtchnView
    from xenlab.xen.evtchn import ECS_FREE
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="c", memory=8, workload="cpu-bound"))
    view = EvtchnView(m, d.domain_id)
    free = next(p for p in range(1, 64) if d.evtchn[p].state == ECS_FREE)
    view.start_delivery(free)
    assert view.frames == [] and "ECS_FREE" in view.caption.value and "-EINVAL" in view.caption.value
    used = next(p for p in range(1, 64) if d.evtchn[p].state != ECS_FREE and not view.domain().evtchn[p].state == 1)
    view.start_delivery(used)
    while view.frame + 1 < len(view.frames):
        view.next_frame()
    last = view.frames[view.frame]
    # the text under the grid shows the replay's upcall_pending, not the machine's
    assert f"evtchn_upcall_pending={last['upcall']}" in view.table.value


def test_clocks_view_drawn_on_first_display_from_the_data_start():
    pytest.importorskip("bqplot")
    from xenlab.viz.clocks import ClocksView
    m = xenlab.Machine(memory_mb=64)
    d = m.create_domain(xenlab.DomainConfig(name="c", memory=8, workload="cpu-bound"))
    m.run_for(30_000_000)
    start = m.now / 1e6
    c = ClocksView(m, run_ns=10_000_000, every_ns=2_000_000)
    # a line per domain with more than one point, and the x axis from the first sample, not from 0
    assert np.asarray(c.lines["tsc"].x).shape[1] > 1 and c.sx.min == pytest.approx(start)
    for panel in PANELS:                                    # explicit y ranges around the data
        y = np.asarray(c.lines[panel].y, dtype=float)
        assert c.y_scales[panel].min <= np.nanmin(y) and c.y_scales[panel].max >= np.nanmax(y)
    c.which.value = d.domain_id
    c.toggle_pause()                                        # pause and run: virtual time stands still
    v = clock_series(c.recorder.samples)[d.domain_id]["virtual_ms"]
    assert d.pause_count == 1 and v[-1] == v[-5]
    assert "wstrzymana" in c.status.value or "paused" in c.status.value

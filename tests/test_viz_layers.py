"""The layers view without a browser: the pure arrays, then the widget driven by clicks."""
import numpy as np
import pytest

from xenlab.i18n import set_language
from xenlab.viz.layers import (COLORS, DOM_Y, XEN_Y, LayersState, LayersView, layers_arrays,
                               result_text)

DOMS = [{"domid": 0, "name": "Domain-0", "privileged": True},
        {"domid": 1, "name": "web", "privileged": False},
        {"domid": 2, "name": "db", "privileged": False}]
EVENTS = [{"domid": 0, "op": "dom0_op", "rc": 0, "errno": "0"},
          {"domid": 1, "op": "mmu_update", "rc": 0, "errno": "0"},
          {"domid": 1, "op": "dom0_op", "rc": -1, "errno": "-EPERM"}]


def test_boxes_one_per_layer_and_domain():
    a = layers_arrays(LayersState(DOMS, EVENTS, 0))
    assert a["box_x"].shape == (2 + len(DOMS), 5)          # hardware, Xen, one per domain
    assert a["box_fill"][2] == COLORS["dom0"] and a["box_fill"][3] == COLORS["domU"]
    # every domain box sits above Xen, which sits above the hardware: the layers of the lecture
    assert a["box_y"][0].max() < a["box_y"][1].min() < a["box_y"][1].max() < a["box_y"][2].min()
    # domain boxes do not overlap
    lefts, rights = a["box_x"][2:, 0], a["box_x"][2:, 1]
    assert np.all(rights[:-1] < lefts[1:])
    assert a["dot_x"].size == 0 and a["arrow_x"].size == 0


def test_each_step_adds_a_dot_and_moves_the_arrow():
    before = layers_arrays(LayersState(DOMS, EVENTS, 1))
    after = layers_arrays(LayersState(DOMS, EVENTS, 2))
    assert before["dot_x"].size == 1 and after["dot_x"].size == 2
    assert not np.allclose(before["arrow_x"], after["arrow_x"])      # dom0's lane, then web's
    assert after["arrow_y"].max() == DOM_Y[0] and after["arrow_y"].min() == XEN_Y[1]


def test_refused_hypercall_is_red_and_says_eperm():
    set_language("en")
    try:
        a = layers_arrays(LayersState(DOMS, EVENTS, 3))
    finally:
        set_language("pl")
    assert a["dot_color"][-1] == COLORS["refused"] and a["arrow_color"] == COLORS["refused"]
    assert a["caption"] == "step 3: web -> Xen: dom0_op = -1 (EPERM)"
    assert result_text(EVENTS[0]) == "0"


def test_labels_are_translated():
    set_language("pl")
    a = layers_arrays(LayersState(DOMS, [], 0))
    assert a["label_text"][1] == "Hiperwizor Xen"
    assert "uprzywilejowana" in a["label_text"][3]


def test_widget_on_a_live_machine_steps_through_hypercalls():
    xenlab = pytest.importorskip("xenlab")
    if not hasattr(xenlab, "Machine"):
        pytest.skip("the model core is not there")
    m = xenlab.Machine(seed=0)
    view = LayersView(m)
    xenlab.xm(m, "create name=web memory=64 workload=interactive")
    refused = m.domain_by_name("web").hypercall("dom0_op")
    assert refused < 0
    assert view.events and view.events[-1]["op"] == "dom0_op"
    n = len(view.events)
    for _ in range(n):
        view.step_button.click()
    per_domain = [sum(e["domid"] == d for e in view.events) for d in m.domains]
    assert view.cursor == n and view.trail.x.size == sum(min(c, 8) for c in per_domain)
    assert "dom0_op" in view.caption.value and "EPERM" in view.caption.value
    view.step_button.click()                      # nothing left: the machine runs and makes more
    assert len(view.events) > n and view.cursor == n + 1
    view.reset_button.click()
    assert view.cursor == 0 and view.trail.x.size == 0 and view.error_box.value == ""
    view.close()


def test_callback_errors_are_shown_not_lost():
    view = LayersView(None, events=EVENTS)

    def broken(*_):
        raise RuntimeError("boom")
    view.step = broken
    view.step_button._click_handlers.callbacks.clear()
    view.step_button.on_click(view._guarded(broken))
    view.step_button.click()
    assert "boom" in view.error_box.value and view.errors

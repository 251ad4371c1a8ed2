"""Exercise 01's plug-in: the reference answers agree with the live model; stubs and loops are shown."""
import pytest

from xenlab.grading.checks.ex01_domain_states import (reference_hypercall_allowed,
                                                      reference_state_string)
from xenlab.viz import ex01


@pytest.fixture(scope="module")
def machine():
    return ex01.scenario_machine()


def test_scenario_has_every_state_but_dying(machine):
    states = {r["xm"] for r in ex01.state_rows(machine, reference_state_string)}
    assert {"r-----", "-b----", "--p---", "---s--", "----c-"} <= states


def test_reference_state_string_agrees_with_xm_list(machine):
    rows = ex01.state_rows(machine, reference_state_string)
    assert rows and all(r["agree"] for r in rows)


def test_reference_hypercall_allowed_agrees_with_xen():
    m = ex01.scenario_machine()
    rows = ex01.hypercall_rows(m, reference_hypercall_allowed)
    assert {r["domain"] for r in rows} == {"Domain-0", "web"}
    assert all(r["agree"] for r in rows), [r for r in rows if not r["agree"]]
    assert any("EPERM" in r["xen"] for r in rows) and any("ENOSYS" in r["xen"] for r in rows)


def test_stub_and_loop_are_reported_not_raised(machine):
    def stub(*args):
        raise NotImplementedError("exercise ex01: write xm_state_string()")

    def loop(*args):
        while True:
            pass
    ex01.STUDENT_TIMEOUT_S, saved = 0.05, ex01.STUDENT_TIMEOUT_S
    try:
        rows = ex01.state_rows(machine, stub) + ex01.state_rows(machine, loop)
    finally:
        ex01.STUDENT_TIMEOUT_S = saved
    assert not any(r["agree"] for r in rows)


def test_playground_widget_with_reference_answers():
    box = ex01.playground(reference_state_string, reference_hypercall_allowed)
    assert all(r["agree"] for r in box.states + box.calls)
    assert box.view.cursor == len(box.view.events) > 0
    assert "&#10003;" in box.children[0].value

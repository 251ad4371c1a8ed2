"""Exercise 01 on the live model: the student's functions next to what Xen and xm actually do.

`state_rows(machine, xm_state_string)`: for every domain, the DOM0_GETDOMAININFO flags decoded into the
six booleans (as xend does), the student's State string for them, and the one `xm list` prints.
`hypercall_rows(machine, hypercall_allowed)`: a few harmless probe hypercalls made for real by dom0 and
by a domU, the student's prediction, and Xen's return code.
`playground(xm_state_string, hypercall_allowed)` builds a machine with domains in every state, shows
both tables and the layers widget with the probes as arrows. A function that is still a stub, raises or
loops is shown as such; nothing here raises because of the student's code.
"""
from __future__ import annotations

import html

from xenlab.i18n import t
from xenlab.viz.student import call_student

STUDENT_TIMEOUT_S = 1.0


def _call(fn, *args):
    """(value, None) or (None, what went wrong) for one call of the student's function."""
    return call_student(fn, STUDENT_TIMEOUT_S, *args, not_written=t("viz.ex01.not_written"),
                        timed_out=t("viz.ex01.timeout", seconds=STUDENT_TIMEOUT_S))


def decode_flags(flags: int) -> tuple:
    """DOM0_GETDOMAININFO flags -> (running, blocked, paused, shutdown, crashed, dying), as xend reads them."""
    from xenlab.xen.public import dom0_ops as D
    from xenlab.xen.public.xen import SHUTDOWN_crash
    shutdown = bool(flags & D.DOMFLAGS_SHUTDOWN)
    reason = (flags >> D.DOMFLAGS_SHUTDOWNSHIFT) & D.DOMFLAGS_SHUTDOWNMASK
    crashed = shutdown and reason == SHUTDOWN_crash
    return (bool(flags & D.DOMFLAGS_RUNNING), bool(flags & D.DOMFLAGS_BLOCKED),
            bool(flags & D.DOMFLAGS_PAUSED), shutdown and not crashed, crashed,
            bool(flags & D.DOMFLAGS_DYING))


def state_rows(machine, xm_state_string) -> list[dict]:
    from xenlab.toolstack.xm import domain_infos, xm
    listed = {row["id"]: row["state"] for row in xm(machine, "list").rows}
    rows = []
    for info in domain_infos(machine):
        flags = decode_flags(info.flags)
        yours, problem = _call(xm_state_string, *flags)
        rows.append({"domain": machine.domains[info.domain].name, "flags": flags,
                     "yours": problem if problem else repr(yours), "xm": listed[info.domain],
                     "agree": problem is None and yours == listed[info.domain]})
    return rows


def probes():
    """(label, name for the student, hypercall number or name, args) of harmless hypercalls."""
    from xenlab.xen.public import dom0_ops as D
    from xenlab.xen.public import xen as X
    text = b"hello from the exercise\n"
    return [
        ("xen_version(XENVER_version)", "xen_version", "xen_version", (X.XENVER_version, None)),
        ("console_io(CONSOLEIO_write)", "console_io", "console_io", (X.CONSOLEIO_write, len(text), text)),
        ("dom0_op(DOM0_GETDOMAININFO)", "dom0_op", "dom0_op",
         (D.dom0_op(D.DOM0_GETDOMAININFO, D.dom0_getdomaininfo(domain=0)),)),
        ("#11 (2.0: set_fast_trap)", "set_fast_trap", 11, ()),
    ]


def hypercall_rows(machine, hypercall_allowed, domains=None) -> list[dict]:
    from xenlab.xen.public import errno as E
    if domains is None:
        domains = [d for d in machine.domains.values()
                   if not (d.is_shutdown or d.is_dying or d.pause_count)]
    rows = []
    for d in domains:
        for label, name, call, args in probes():
            yours, problem = _call(hypercall_allowed, d.domain_id, name)
            rc = d.hypercall(call, *args)
            allowed = rc not in (-E.EPERM, -E.ENOSYS)
            rows.append({"domain": d.name, "domid": d.domain_id, "hypercall": label,
                         "yours": problem if problem else repr(yours),
                         "xen": str(rc) if rc >= 0 else f"{rc} ({E.errno_name(rc).lstrip('-')})",
                         "agree": problem is None and yours is allowed})
    return rows


def rows_html(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(title)}</th>"
                   for _, title in columns)
    body = []
    for r in rows:
        colour = "#e6f4e6" if r["agree"] else "#fbe3e3"
        cells = "".join(f"<td style='padding:2px 8px;font-family:monospace'>{html.escape(str(r[k]))}</td>"
                        for k, _ in columns)
        mark = "&#10003;" if r["agree"] else "&#10007;"
        body.append(f"<tr style='background:{colour}'>{cells}<td style='padding:2px 8px'>{mark}</td></tr>")
    ok = sum(r["agree"] for r in rows)
    summary = html.escape(t("viz.ex01.summary", ok=ok, total=len(rows)))
    return (f"<table style='border-collapse:collapse'><tr>{head}<th></th></tr>{''.join(body)}</table>"
            f"<p><b>{summary}</b></p>")


def scenario_machine():
    """A machine with a domain in each state: running dom0, blocked, paused, shut down, crashed."""
    import xenlab
    m = xenlab.Machine(seed=0)
    xenlab.xm(m, "create name=web memory=32 workload=interactive")
    xenlab.xm(m, "create name=db memory=32")
    xenlab.xm(m, "pause db")
    xenlab.xm(m, "create", config='name = "batch"\nmemory = 32\non_poweroff = "preserve"\n'
                                  'workload = [("compute", 2000000), ("shutdown", "poweroff")]\n')
    xenlab.xm(m, "create", config='name = "buggy"\nmemory = 32\non_crash = "preserve"\n'
                                  'workload = [("compute", 1000000), ("shutdown", "crash")]\n')
    m.run_for(20_000_000)
    return m


def playground(xm_state_string=None, hypercall_allowed=None, machine=None):
    """Both tables and the layers widget, for the student's two functions."""
    import ipywidgets as W

    from xenlab.viz.layers import LayersView
    m = machine if machine is not None else scenario_machine()
    states = state_rows(m, xm_state_string)
    view = LayersView(m)
    calls = hypercall_rows(m, hypercall_allowed)
    view.cursor = len(view.events)
    view.redraw()
    state_table = rows_html([{**r, "flags": "".join("1" if f else "0" for f in r["flags"])} for r in states],
                            [("domain", t("viz.ex01.col.domain")), ("flags", t("viz.ex01.col.flags")),
                             ("yours", t("viz.ex01.col.yours")), ("xm", t("viz.ex01.col.xm"))])
    call_table = rows_html(calls, [("domain", t("viz.ex01.col.domain")),
                                   ("hypercall", t("viz.ex01.col.hypercall")),
                                   ("yours", t("viz.ex01.col.yours")), ("xen", t("viz.ex01.col.xen"))])
    box = W.VBox([W.HTML(f"<h4>{html.escape(t('viz.ex01.states'))}</h4>{state_table}"),
                  W.HTML(f"<h4>{html.escape(t('viz.ex01.hypercalls'))}</h4>{call_table}"),
                  view.widget])
    box.states, box.calls, box.view = states, calls, view
    return box

"""The packet-flow view (chapter 11): where each frame went, guest -> netfront -> TX ring -> netback
-> bridge -> (NIC | netback -> RX ring -> netfront) -> guest, and each interface's counters.

Pure functions: ``hops(events)`` turns recorded trace events into a list of hops (time, stage,
where, what); ``vif_rows(machine)`` gives xentop's NETTX/NETRX numbers per interface. ``NetView``
shows them.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.viz.base import View

STAGES = ("netfront TX", "netback TX", "bridge", "netback RX", "netfront RX")


def stage_label(stage: str) -> str:
    """A stage as a reader sees it: the drivers' names as they are, "bridge" in the current language."""
    return t("narration.net.bridge") if stage == "bridge" else stage


def _stage(e) -> str | None:
    n = e.name
    if n == "netfront_tx_produce_request":
        return "netfront TX"
    if n == "netif_tx_consume_request":
        return "netback TX"
    if n == "bridge_forward":
        return "bridge"
    if n == "netif_rx_produce_response":
        return "netback RX"
    if n == "netfront_rx_consume_response":
        return "netfront RX"
    return None


def hops(events) -> list[dict]:
    out = []
    for e in events:
        if e.cls != "IO":
            continue
        stage = _stage(e)
        if stage is None:
            continue
        p = e.data
        where = (f"d{e.domid}" if e.domid is not None else p.get("bridge", ""))
        if stage == "bridge":
            where = f"{p['in_port']} -> {', '.join(p['out_ports']) or '(nowhere)'}"
        out.append({"time_us": e.time / 1000, "stage": stage, "stage_no": STAGES.index(stage), "where": where,
                    "label": stage_label(stage),
                    "what": p.get("what", t("narration.net.slot", slot=p.get("slot")))})
    return out


def vif_rows(machine) -> list[dict]:
    rows = []
    for (domid, devid), n in sorted(machine.xend.devices.netback.netifs.items()):
        d = machine.domains.get(domid)
        s = n.stats
        rows.append({"domain": d.name if d else domid, "vif": n.name, "mode": "copy" if n.rx_copy else "flip",
                     "tx_pkts": s.tx_packets, "tx_bytes": s.tx_bytes, "rx_pkts": s.rx_packets,
                     "rx_bytes": s.rx_bytes, "rx_dropped": s.rx_dropped, "tx_errors": s.tx_errors})
    return rows


def hops_text(h: list[dict]) -> str:
    return "\n".join(f"{x['time_us']:10.1f} us  {x['label']:<12} {x['where']:<28} {x['what']}" for x in h)


NET_COLUMNS = ("domain", "vif", "mode", "tx_pkts", "tx_bytes", "rx_pkts", "rx_bytes", "rx_dropped", "tx_errors")


def vif_html(rows) -> str:
    """The interfaces' counters as a table that fits the output area (heads in the student's language)."""
    from xenlab.i18n import t
    from xenlab.viz.theme import table_html
    heads = [t(f"viz.views.net.col.{c}") for c in NET_COLUMNS]
    body = [[t(f"viz.views.net.mode.{r[c]}") if c == "mode" else r[c] for c in NET_COLUMNS] for r in rows]
    return table_html(heads, body, align_right=range(3, len(NET_COLUMNS)))


def hops_html(h: list[dict]) -> str:
    """The packet log as a table: one hop a row, no cell broken inside a word."""
    from xenlab.i18n import t
    from xenlab.viz.theme import table_html
    heads = [t(f"viz.views.net.hop.{c}") for c in ("time", "stage", "where", "what")]
    body = []
    for x in h:
        where = x["where"].replace("(nowhere)", t("viz.views.net.nowhere"))
        what = x["what"]
        if what.startswith("slot "):
            what = t("viz.views.net.slot", slot=what[5:])
        body.append([f"{x['time_us']:.1f}", x["label"], where, what])
    return table_html(heads, body, align_right=(0,))


class NetView(View):
    """The interfaces' counters and the hops of the recorded frames (no controls: it shows a run)."""

    def __init__(self, machine, events=()):
        import ipywidgets as W
        from xenlab.viz import theme
        self.machine = machine
        self.table = W.HTML()
        self.flow = W.HTML()
        self.widget = W.VBox([self.table, self.flow], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self.update(events)

    def update(self, events=()) -> None:
        h = hops(events)
        with self.table.hold_sync():
            self.table.value = vif_html(vif_rows(self.machine))
            self.flow.value = hops_html(h)

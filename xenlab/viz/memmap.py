"""The memory map (chapter 4): every machine frame as a cell, coloured by its owner or by its page type,
so a student sees a guest's frames scattered over memory (non-contiguous allocation), its page-table
pages, Xen's own frames (and the shadows it keeps for HVM guests), and the frames a balloon gives back.

Pure functions: ``frame_codes`` (one code per frame, by owner or by type), ``frame_grid`` (the same as
a 2-D array with a legend and counts), ``p2m_runs`` (how many contiguous machine runs a guest's
memory is in) and ``ballooned_frames`` (frames a ``decrease_reservation`` returned, from a trace).
``MemoryMap`` is the widget (a bqplot heat map with a domain selector and balloon buttons).
"""
from __future__ import annotations

import numpy as np

from xenlab.i18n import t
from xenlab.viz.base import View
from xenlab.xen.page_alloc import (PGT_count_mask, PGT_gdt_page, PGT_l1_page_table, PGT_l2_page_table,
                                   PGT_l3_page_table, PGT_ldt_page, PGT_type_mask, PGT_writable_page)
from xenlab.xen.public.xen import DOMID_XEN

FREE = -1
DOMAIN_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
TYPE_CODES = (("free", "#f4f4f4"), ("xen", "#d62728"), ("ordinary", "#c6dbef"), ("writable", "#6baed6"),
              ("l1", "#fd8d3c"), ("l2", "#e6550d"), ("l3", "#a63603"), ("gdt/ldt", "#31a354"),
              ("ballooned", "#000000"))
_TYPE_OF = {PGT_writable_page: 3, PGT_l1_page_table: 4, PGT_l2_page_table: 5, PGT_l3_page_table: 6,
            PGT_gdt_page: 7, PGT_ldt_page: 7}


def label(key: str, **kw) -> str:
    """The map's label ``key`` (a page type, a button, the summary ...) in the current language."""
    return t(f"viz.memmap.{key}", **kw)


def owner_legend(machine) -> list[tuple[int, str, str]]:
    """(code, label, colour): 0 free, 1 Xen, then one code per domain in domid order."""
    out = [(0, label("free"), "#f4f4f4"), (1, label("xen"), "#d62728")]
    for i, domid in enumerate(sorted(machine.domains)):
        d = machine.domains[domid]
        out.append((2 + i, f"d{domid} {d.name}", DOMAIN_COLOURS[i % len(DOMAIN_COLOURS)]))
    return out


def frame_codes(machine, by: str = "owner", ballooned=()) -> np.ndarray:
    """One small int per machine frame: by owner (see ``owner_legend``) or by type (``TYPE_CODES``).
    Frames in ``ballooned`` that are free again are marked with the last type code."""
    ft = machine.frame_table
    owner = ft.owner.astype(np.int64)
    if by == "owner":
        codes = np.zeros(ft.nr_frames, np.int16)
        codes[owner == DOMID_XEN] = 1
        for i, domid in enumerate(sorted(machine.domains)):
            codes[owner == domid] = 2 + i
        return codes
    if by != "type":
        raise ValueError(f"by must be 'owner' or 'type', not {by!r}")
    ti = ft.type_info.astype(np.int64)
    kind, count = ti & PGT_type_mask, ti & PGT_count_mask
    codes = np.full(ft.nr_frames, 2, np.int16)                 # an owned frame with no live type
    for pgt, code in _TYPE_OF.items():
        codes[(kind == pgt) & (count > 0)] = code
    codes[owner == DOMID_XEN] = 1
    codes[owner == FREE] = 0
    gone = np.asarray(list(ballooned), dtype=np.int64)
    if gone.size:
        gone = gone[owner[gone] == FREE]
        codes[gone] = len(TYPE_CODES) - 1
    return codes


def frame_grid(machine, by: str = "owner", width: int = 256, ballooned=()) -> dict:
    """``frame_codes`` as rows of ``width`` frames, with the legend and the number of frames per code."""
    codes = frame_codes(machine, by, ballooned)
    rows = -(-codes.size // width)
    grid = np.full(rows * width, -1, np.int16)
    grid[:codes.size] = codes
    legend = owner_legend(machine) if by == "owner" else [(i, label(n), c) for i, (n, c) in enumerate(TYPE_CODES)]
    counts = {name: int((codes == code).sum()) for code, name, _ in legend}
    return {"grid": grid.reshape(rows, width), "legend": legend, "counts": counts, "width": width}


def p2m_runs(d) -> list[tuple[int, int, int]]:
    """The guest's P2M as runs of consecutive machine frames: (first pfn, first mfn, length)."""
    runs, start = [], None
    for pfn, mfn in enumerate(d.p2m):
        if start is not None and mfn == runs[-1][1] + runs[-1][2] and mfn >= 0:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((pfn, mfn, 1))
            start = pfn
    return runs


def page_table_frames(machine, domid: int) -> list[int]:
    """Frames of ``domid`` currently typed as L1/L2/L3 page tables."""
    ft = machine.frame_table
    ti = ft.type_info.astype(np.int64)
    is_pt = np.isin(ti & PGT_type_mask, [PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table])
    return np.flatnonzero((ft.owner == domid) & is_pt & ((ti & PGT_count_mask) > 0)).tolist()


def ballooned_frames(events, domid: int | None = None) -> list[int]:
    """MFNs given back with decrease_reservation in a recorded trace."""
    return [e["mfn"] for e in events if e.name == "decrease_reservation" and (domid is None or e.domid == domid)]


def domain_summary(d) -> str:
    return label("summary", domid=d.domain_id, pages=d.tot_pages, runs=len(p2m_runs(d)),
                 tables=len(page_table_frames(d.machine, d.domain_id)))


class MemoryMap(View):
    """All machine frames as a heat map, coloured by owner or by type; balloon buttons for a domain."""

    ERROR_KEY = "viz.memmap.error"

    def __init__(self, machine, width: int = 256):
        import bqplot as bq
        import ipywidgets as W
        self.machine, self.width = machine, width
        self.errors: list[str] = []
        self.ballooned: list[int] = []
        self.by = W.ToggleButtons(options=[(label("owner"), "owner"), (label("type"), "type")], value="owner")
        self.domain = W.Dropdown(description=label("domain"), options=self._domain_options())
        self.cs = bq.ColorScale(min=0, max=1, colors=["#f4f4f4", "#d62728"])
        self.grid = bq.GridHeatMap(color=np.zeros((2, 2)), scales={
            "color": self.cs, "row": bq.OrdinalScale(reverse=False), "column": bq.OrdinalScale()})
        self.figure = bq.Figure(marks=[self.grid], animation_duration=0, fig_margin={"top": 10, "bottom": 10,
                                "left": 10, "right": 10}, layout=W.Layout(width="100%", height="420px"))
        self.legend, self.summary, self.error_box = W.HTML(), W.Label(), W.HTML()
        out_b, in_b = W.Button(description=label("out")), W.Button(description=label("in"))
        out_b.on_click(self._guarded(lambda *_: self.balloon(-256)))
        in_b.on_click(self._guarded(lambda *_: self.balloon(+256)))
        self.by.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.domain.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.widget = W.VBox([W.HBox([self.by, self.domain, out_b, in_b]), self.figure, self.legend,
                              self.summary, self.error_box])
        self.redraw()

    def _domain_options(self):
        return [(f"d{domid} {d.name}", domid) for domid, d in sorted(self.machine.domains.items())]

    def balloon(self, pages: int) -> int:
        """Balloon the selected domain out (pages < 0) or back in (pages > 0); returns pages moved."""
        d = self.machine.domains[self.domain.value]
        with self.machine.trace.record("MEM") as events:
            done = d.kernel.mm.balloon_out(-pages) if pages < 0 else d.kernel.mm.balloon_in(pages)
        self.ballooned += ballooned_frames(events)
        self.redraw()
        return done

    def redraw(self):
        g = frame_grid(self.machine, self.by.value, self.width, self.ballooned)
        colours = [c for _, _, c in g["legend"]]
        grid = g["grid"].astype(float)
        grid[grid < 0] = 0
        with self.grid.hold_sync():
            self.cs.min, self.cs.max = 0, max(1, len(colours) - 1)
            self.cs.colors = colours if len(colours) > 1 else colours * 2
            self.grid.color = grid
        self.legend.value = " ".join(f"<span style='background:{c};padding:0 8px'>&nbsp;</span> {n} ({g['counts'][n]})"
                                     for _, n, c in g["legend"])
        if self.domain.value is not None:
            self.summary.value = domain_summary(self.machine.domains[self.domain.value])


"""The memory map (chapter 4): every machine frame as a cell, coloured by its owner or by its page type,
so a student sees a guest's frames scattered over memory (non-contiguous allocation), its page-table
pages, Xen's own frames (and the shadows it keeps for HVM guests), and the frames a balloon gives back.

Pure functions: ``frame_codes`` (one code per frame, by owner or by type), ``frame_grid`` (the same as
a 2-D array with a legend and counts), ``p2m_runs`` (how many contiguous machine runs a guest's
memory is in) and ``ballooned_frames`` (frames a ``decrease_reservation`` returned, from a trace).
``frame_rgba`` turns codes into an RGBA raster (one pixel per frame), ``png_bytes`` encodes it as a PNG
(zlib and struct only) and ``frame_info`` says what one frame is. ``MemoryMap`` is the widget: the raster
as one bqplot Image mark (no per-frame SVG element, so a redraw of 64k frames costs milliseconds), a
zoom to a range of frames, a click on a frame for its mfn, pfn, owner, type and counts, and balloon
buttons for a domain.
"""
from __future__ import annotations

import html
import struct
import zlib

import numpy as np

from xenlab.i18n import t
from xenlab.viz import theme
from xenlab.viz.base import View
from xenlab.xen.page_alloc import (PGT_count_mask, PGT_gdt_page, PGT_l1_page_table, PGT_l2_page_table,
                                   PGT_l3_page_table, PGT_ldt_page, PGT_type_mask, PGT_writable_page)
from xenlab.xen.public.xen import DOMID_XEN

FREE = -1
DOMAIN_COLOURS = theme.DOMU_COLOURS
TYPE_CODES = (("free", theme.FREE), ("xen", theme.XEN), ("ordinary", "#c6dbef"), ("writable", "#6baed6"),
              ("l1", "#fd8d3c"), ("l2", "#e6550d"), ("l3", "#a63603"), ("gdt/ldt", "#31a354"),
              ("ballooned", "#000000"))
_TYPE_OF = {PGT_writable_page: 3, PGT_l1_page_table: 4, PGT_l2_page_table: 5, PGT_l3_page_table: 6,
            PGT_gdt_page: 7, PGT_ldt_page: 7}


def label(key: str, **kw) -> str:
    """The map's label ``key`` (a page type, a button, the summary ...) in the current language."""
    return t(f"viz.memmap.{key}", **kw)


def owner_legend(machine) -> list[tuple[int, str, str]]:
    """(code, label, colour): 0 free, 1 Xen, then one code per domain in domid order."""
    out = [(0, label("free"), theme.FREE), (1, label("xen"), theme.XEN)]
    for i, domid in enumerate(sorted(machine.domains)):
        d = machine.domains[domid]
        out.append((2 + i, f"d{domid} {d.name}", theme.domain_colour(domid)))
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


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def frame_rgba(codes: np.ndarray, colours, width: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Frames ``start..stop-1`` as an RGBA raster ``width`` pixels wide, one pixel per frame coloured
    ``colours[code]``; the cells after the last frame are transparent."""
    stop = codes.size if stop is None else stop
    part = codes[start:stop]
    rows = max(1, -(-part.size // width))
    palette = np.array([hex_rgb(c) + (255,) for c in colours] + [(0, 0, 0, 0)], dtype=np.uint8)
    cells = np.full(rows * width, len(colours), dtype=np.int64)
    cells[:part.size] = part
    return palette[cells].reshape(rows, width, 4)


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG of an RGBA uint8 image (colour type 6, 8 bits, filter 0 on every row)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = np.zeros((h, 1 + 4 * w), dtype=np.uint8)             # a filter byte (0: none) before each row
    raw[:, 1:] = rgba.reshape(h, 4 * w)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)) + chunk(b"IEND", b""))


def raster_width(frames: int, aspect: float = 3.0) -> int:
    """Frames per row for ``frames`` frames in a picture ``aspect`` times wider than tall: a power of
    two, so that a row starts at a round mfn."""
    want = max(16.0, (frames * aspect) ** 0.5)
    return int(min(1024, 1 << int(np.ceil(np.log2(want)))))


def frame_info(machine, mfn: int) -> dict:
    """What frame ``mfn`` is: owner, the guest pfn the M2P gives, its page type and counts."""
    ft = machine.frame_table
    pi = ft[int(mfn)]
    owner = pi.owner
    if owner is None:
        who = label("nobody")
    elif owner == DOMID_XEN:
        who = label("xen")
    else:
        d = machine.domains.get(owner)
        who = f"d{owner} {d.name}" if d is not None else f"d{owner}"
    pfn = None
    if owner is not None and owner != DOMID_XEN:
        p = int(machine.m2p[mfn])
        d = machine.domains.get(owner)
        if d is not None and 0 <= p < len(d.p2m) and d.p2m[p] == mfn:
            pfn = p
    return {"mfn": int(mfn), "pfn": pfn, "owner": who, "type": pi.type, "type_count": pi.type_count,
            "count": pi.count, "pinned": pi.pinned, "validated": pi.validated}


def frame_info_text(info: dict) -> str:
    pfn = "—" if info["pfn"] is None else f"{info['pfn']:#x}"
    return label("info", mfn=info["mfn"], pfn=pfn, owner=info["owner"], type=info["type"], tc=info["type_count"],
                 count=info["count"], pinned=label("yes") if info["pinned"] else label("no"))


class MemoryMap(View):
    """All machine frames as one raster image coloured by owner or by type; zoom to a range, click a frame
    for what it is, balloon a domain out or in."""

    ERROR_KEY = "viz.memmap.error"

    def __init__(self, machine, width: int | None = None, height_px: int = 320):
        import bqplot as bq
        import ipywidgets as W
        self.machine = machine
        self.fixed_width = width
        self.errors: list[str] = []
        self.ballooned: list[int] = []
        self.selected: int | None = None
        self.note = ""                                   # what the last balloon click did
        n = machine.frame_table.nr_frames
        self.start, self.stop = 0, n
        self.by = W.ToggleButtons(options=[(label("owner"), "owner"), (label("type"), "type")], value="owner",
                                  style={"button_width": "auto"})
        self.domain = W.Dropdown(description=label("domain"), options=self._domain_options(),
                                 style={"description_width": "auto"}, layout=W.Layout(width="auto"))
        self.W = W
        self.png = W.Image(format="png")
        self.sx, self.sy = bq.LinearScale(min=0, max=1), bq.LinearScale(min=0, max=1, reverse=True)
        self.image = bq.Image(image=self.png, scales={"x": self.sx, "y": self.sy}, x=[0, 1], y=[0, 1])
        self.image.pixelated = True
        self.image.on_element_click(self._guarded(lambda _m, ev: self.select_at(ev["data"]["click_x"],
                                                                                 ev["data"]["click_y"])))
        self.cursor = bq.Scatter(x=[], y=[], scales={"x": self.sx, "y": self.sy}, marker="square",
                                 default_size=120, fill=False, stroke=theme.HIGHLIGHT, stroke_width=3,
                                 colors=[theme.HIGHLIGHT])
        ticks = {"font-size": f"{theme.FONT_PX}px"}
        self.ax_x = bq.Axis(scale=self.sx, label=label("axis_x"), tick_format="d", tick_style=ticks)
        self.ax_y = bq.Axis(scale=self.sy, orientation="vertical", label=label("axis_y"), tick_format="#x",
                            label_offset="62px", tick_style=ticks)
        self.figure = bq.Figure(marks=[self.image, self.cursor], axes=[self.ax_x, self.ax_y], animation_duration=0,
                                padding_x=0, padding_y=0,
                                fig_margin={"top": 10, "bottom": 45, "left": 80, "right": 15},
                                layout=W.Layout(**theme.figure_layout(height_px)))
        self.zoom = W.IntRangeSlider(value=(0, n), min=0, max=n, step=16, description=label("zoom"),
                                     continuous_update=False, style={"description_width": "auto"},
                                     layout=W.Layout(width="520px"))
        whole = W.Button(description=label("whole"), layout=theme.button_layout())
        mine = W.Button(description=label("zoom_domain"), layout=theme.button_layout())
        out_b = W.Button(description=label("out"), layout=theme.button_layout())
        in_b = W.Button(description=label("in"), layout=theme.button_layout())
        out_b.on_click(self._guarded(lambda *_: self.balloon(-256)))
        in_b.on_click(self._guarded(lambda *_: self.balloon(+256)))
        whole.on_click(self._guarded(lambda *_: self.zoom_to(0, n)))
        mine.on_click(self._guarded(lambda *_: self.zoom_to_domain()))
        self.zoom.observe(self._guarded(lambda ch: self.zoom_to(*ch["new"])), names="value")
        self.by.observe(self._guarded(lambda *_: self.redraw()), names="value")
        self.domain.observe(self._guarded(lambda *_: self._domain_changed()), names="value")
        self.legend, self.summary, self.info, self.error_box = W.HTML(), W.HTML(), W.HTML(), W.HTML()
        self.info.value = self._info_html(None)
        self.widget = W.VBox([theme.controls_row([self.by, self.domain, out_b, in_b]),
                              theme.controls_row([self.zoom, mine, whole]), self.figure, self.legend,
                              self.info, self.summary, self.error_box],
                             layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX - 20}px"))
        self.redraw()

    def _domain_changed(self):
        self.note = ""
        self.redraw()

    def _domain_options(self):
        return [(f"d{domid} {d.name}", domid) for domid, d in sorted(self.machine.domains.items())]

    @property
    def width(self) -> int:
        return self.fixed_width or raster_width(self.stop - self.start)

    # -- actions ------------------------------------------------------------------------------------------
    def balloon(self, pages: int) -> int:
        """Balloon the selected domain out (pages < 0) or back in (pages > 0); returns pages moved."""
        d = self.machine.domains[self.domain.value]
        with self.machine.trace.record("MEM") as events:
            done = d.kernel.mm.balloon_out(-pages) if pages < 0 else d.kernel.mm.balloon_in(pages)
        self.ballooned += ballooned_frames(events)
        self.note = label("moved", n=done) if done else label("moved_none_out" if pages < 0 else "moved_none_in")
        self.redraw()
        return done

    def zoom_to(self, start: int, stop: int) -> None:
        n = self.machine.frame_table.nr_frames
        start, stop = max(0, int(start)), min(n, int(stop))
        if stop - start < 16:
            stop = min(n, start + 16)
            start = stop - 16
        self.start, self.stop = start, stop
        if tuple(self.zoom.value) != (start, stop):
            self.zoom.value = (start, stop)           # its observer comes back here with the same range
        self.redraw()

    def zoom_to_domain(self) -> None:
        frames = self.machine.frame_table.frames_of(self.domain.value)
        if frames.size:
            self.zoom_to(int(frames.min()), int(frames.max()) + 1)

    def select_at(self, x: float, y: float) -> dict | None:
        """The frame under the point (x, y) of the picture (offset in the row, mfn), as a click gives it."""
        col, row = int(np.floor(x)), int(np.floor((y - self.start) / self.width))
        if not (0 <= col < self.width and row >= 0):
            return None
        return self.select(self.start + row * self.width + col)

    def select(self, mfn: int) -> dict | None:
        if not self.start <= mfn < self.stop:
            return None
        self.selected = int(mfn)
        info = frame_info(self.machine, mfn)
        self.info.value = self._info_html(info)
        self._place_cursor()
        return info

    def _info_html(self, info) -> str:
        text = label("click") if info is None else frame_info_text(info)
        return f"<div style='font-size:{theme.FONT_PX + 1}px;white-space:normal'>{html.escape(text)}</div>"

    def _place_cursor(self):
        with self.cursor.hold_sync():
            if self.selected is None or not self.start <= self.selected < self.stop:
                self.cursor.x, self.cursor.y = [], []
            else:
                k = self.selected - self.start
                self.cursor.x = [k % self.width + 0.5]
                self.cursor.y = [self.start + (k // self.width + 0.5) * self.width]

    # -- drawing -------------------------------------------------------------------------------------------
    def redraw(self):
        by = self.by.value
        codes = frame_codes(self.machine, by, self.ballooned)
        legend = owner_legend(self.machine) if by == "owner" else \
            [(i, label(n), c) for i, (n, c) in enumerate(TYPE_CODES)]
        colours = [c for _, _, c in legend]
        width = self.width
        rgba = frame_rgba(codes, colours, width, self.start, self.stop)
        rows = rgba.shape[0]
        data = png_bytes(rgba)
        with self.image.hold_sync(), self.sx.hold_sync(), self.sy.hold_sync():
            self.sx.min, self.sx.max = 0, width
            self.sy.min, self.sy.max = self.start, self.start + rows * width
            self.image.x, self.image.y = [0, width], [self.start + rows * width, self.start]
            # bqplot's Image mark redraws when its ``image`` trait changes, not when that widget's bytes do:
            # a fresh Image widget per picture (the old one closed, so none pile up in the kernel)
            old, self.png = self.png, self.W.Image(value=data, format="png")
            self.image.image = self.png
        if old is not None:
            old.close()
        with self.ax_x.hold_sync(), self.ax_y.hold_sync():
            self.ax_x.tick_values = np.linspace(0, width, 9).round().astype(int)
            # row starts, the last one a row above the bottom so that it does not sit on the x axis' labels
            self.ax_y.tick_values = self.start + width * np.unique(np.linspace(0, max(0, rows - 1), min(rows, 5))
                                                                   .round().astype(int))
        self._place_cursor()
        part = codes[self.start:self.stop]
        counts = np.bincount(part.astype(np.int64), minlength=len(colours))
        self.legend.value = theme.legend_html([(f"{name} ({int(counts[code])})", c) for code, name, c in legend])
        where = label("range", start=self.start, stop=self.stop - 1, n=self.stop - self.start, width=width)
        text = where
        if self.domain.value is not None:
            text += " · " + domain_summary(self.machine.domains[self.domain.value])
        if self.note:
            text += " · " + self.note
        self.summary.value = f"<div style='font-size:{theme.FONT_PX}px'>{html.escape(text)}</div>"

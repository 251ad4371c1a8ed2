"""One visual language for every view: one colour per concept, legible sizes, layouts that fit.

Every widget takes its colours, font sizes and widths from here, so the same concept looks the same
everywhere (a ring's request region is the same orange in chapters 09, 10 and 11; domain 1 is the same
blue in the scheduler lab, the clocks and the memory map) and a lecturer's projector shows text that can
be read from the back of the room.

Rules the views follow (the browser test checks them):
- nothing wider than the notebook's output area (``MAX_WIDTH_PX``, about 960 px in JupyterLab at 1400 px);
- fonts of at least ``FONT_PX`` (12 px); axes carry their unit in the label;
- legends sit outside the plot area (``LEGEND_LOCATION`` plus a right margin, or an HTML legend below);
- rows of controls wrap (``controls_row``) instead of shrinking sliders to dots or cutting labels.

Colours are from a colour-blind-safe palette (Okabe and Ito, 2008) where a concept has to be told apart
from its neighbours; neutral greys for what is background (free frames, unused slots).
"""
from __future__ import annotations

# --- sizes -------------------------------------------------------------------------------------------
MAX_WIDTH_PX = 960            # JupyterLab's output area at a 1400 px window, less its prompt column
FONT_PX = 12                  # the smallest text a view draws
TITLE_FONT_PX = 14
LABEL_WIDTH_PX = 150          # description width of sliders and dropdowns: long enough for "warpu (ms)"

# --- concepts ----------------------------------------------------------------------------------------
XEN = "#3c3c3c"               # the hypervisor itself (its frames, its segment, ring 0)
HARDWARE = "#b0b0b0"
DOM0 = "#e69f00"              # orange: the privileged domain
OK = "#009e73"                # a call or request that succeeded
REFUSED = "#d55e00"           # refused by Xen (negative errno, GNTST_* < 0, failed I/O)
HIGHLIGHT = "#cc79a7"         # the thing the caption talks about (current slot, failing level)
FREE = "#f2f2f2"              # free frames, unused ring slots: background
TEXT = "#222222"
MUTED = "#777777"

# The four regions of a shared descriptor ring (chapter 09's figure; io/ring.h's indices bound them).
RING_REQUEST = "#e69f00"      # requests produced, not yet consumed by the back end
RING_OUTSTANDING = "#56b4e9"  # consumed by the back end, not yet answered
RING_RESPONSE = "#009e73"     # responses produced, not yet consumed by the front end
RING_UNUSED = "#e6e6e6"
RING_REGIONS = (RING_REQUEST, RING_OUTSTANDING, RING_RESPONSE, RING_UNUSED)

# The four kinds of time (chapter 08).
CLOCK_TSC = "#0072b2"
CLOCK_SYSTEM = "#e69f00"
CLOCK_VIRTUAL = "#009e73"
CLOCK_WALL = "#cc79a7"

# Domains: domain 0 is always DOM0's orange; domUs take these in domid order (wrapping after eight).
DOMU_COLOURS = ("#0072b2", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c564b", "#7f7f7f", "#bcbd22")

# The four platforms of SOSP'03's Figure 3 (chapter 12).
PLATFORM = {"L": "#3c3c3c", "X": "#d55e00", "V": "#0072b2", "U": "#009e73"}


def domain_colour(domid: int) -> str:
    """The colour of domain ``domid`` in every view (dom0 orange, domUs from DOMU_COLOURS)."""
    if domid == 0:
        return DOM0
    return DOMU_COLOURS[(domid - 1) % len(DOMU_COLOURS)]


def domain_colours(domids) -> list[str]:
    return [domain_colour(d) for d in domids]


# --- widget layouts (ipywidgets is imported only when a view asks for one) -----------------------------
def figure_layout(height_px: int) -> dict:
    """Layout for a bqplot Figure: the output area's width at most, a fixed height, and no margin (with
    ipywidgets' default 2 px margin a 100 %-wide figure is 4 px wider than its box, and the box scrolls)."""
    return {"width": "100%", "max_width": f"{MAX_WIDTH_PX}px", "height": f"{height_px}px", "margin": "0px"}


def figure_margins(legend: bool = False) -> dict:
    """Margins that leave room for axis labels (and for a legend to the right of the plot)."""
    return {"top": 30, "bottom": 45, "left": 60, "right": 140 if legend else 20}


LEGEND_LOCATION = "top-right"        # with figure_margins(legend=True) the legend stays in the margin


def controls_row(children):
    """A row of controls that wraps onto the next line instead of shrinking them."""
    import ipywidgets as w
    return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", max_width=f"{MAX_WIDTH_PX}px",
                                                  align_items="center", grid_gap="4px 12px"))


def slider_style() -> dict:
    """Style for sliders and dropdowns: a description column wide enough that names are not cut."""
    return {"description_width": f"{LABEL_WIDTH_PX}px"}


def button_layout(min_width_px: int = 120):
    """Buttons size to their text (no ellipsis), never narrower than ``min_width_px``."""
    import ipywidgets as w
    return w.Layout(width="auto", min_width=f"{min_width_px}px")


def legend_html(items) -> str:
    """An HTML legend (``items``: (label, colour) pairs) to put under a plot instead of inside it."""
    cells = "".join(
        f"<span style='display:inline-block;margin:0 12px 2px 0;white-space:nowrap;font-size:{FONT_PX}px'>"
        f"<span style='display:inline-block;width:12px;height:12px;background:{colour};"
        f"border:1px solid #999;vertical-align:middle;margin-right:4px'></span>{label}</span>"
        for label, colour in items)
    return f"<div style='max-width:{MAX_WIDTH_PX}px;line-height:18px'>{cells}</div>"


def fitted_figure_layout(height_px: int) -> dict:
    """The same as ``figure_layout`` (kept for the views that name it)."""
    return figure_layout(height_px)


def axis_font(px: int = FONT_PX) -> dict:
    """tick_style for a bqplot Axis: tick labels at least FONT_PX (bqplot's default is 10 px)."""
    return {"font-size": f"{px}px"}


def pre_html(text: str) -> str:
    """Monospaced text that wraps at spaces (never mid-word) and never leaves the output area."""
    import html
    return (f"<pre style='font-size:{FONT_PX}px;max-width:{MAX_WIDTH_PX}px;white-space:pre-wrap;"
            f"overflow-wrap:normal;word-break:normal;margin:0'>{html.escape(text)}</pre>")


def table_html(heads, rows, align_right=()) -> str:
    """A compact HTML table that fits the output area: cells do not break inside words."""
    cell = "padding:2px 8px;white-space:nowrap;border-bottom:1px solid #ddd"
    def td(i, v, tag="td"):
        side = "right" if i in align_right else "left"
        return f"<{tag} style='{cell};text-align:{side}'>{v}</{tag}>"
    head = "".join(td(i, h, "th") for i, h in enumerate(heads))
    body = "".join("<tr>" + "".join(td(i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return (f"<div style='max-width:{MAX_WIDTH_PX}px;font-size:{FONT_PX}px'>"
            f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table></div>")


# Domain states as xentop's STATE column letters (r running, b blocked, p paused).
STATE_COLOURS = {"r": OK, "b": DOMU_COLOURS[0], "p": DOM0}

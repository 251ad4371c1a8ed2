"""Strings of the views of chapters 12 to 14: relative performance, xentop, live migration."""

PL: dict[str, object] = {
    # relative performance (chapter 12)
    "viz.perf.title": "Wydajność względem natywnego Linuksa (SOSP'03, rys. 3)",
    # xentop as a live table (chapter 13)
    "viz.xentop.title": "xentop: CPU(%) domen",
    "viz.xentop.next": "Następna próbka",
    "viz.xentop.error": "Błąd widżetu: {error}",
    # live migration (chapter 14)
    "viz.migration.title": "Migracja na żywo: iteracje kopiowania wstępnego",
    "viz.migration.x": "czas (s)",
    "viz.migration.y": "przepustowość (Mb/s)",
    "viz.migration.downtime": "czas przestoju {ms:.1f} ms",
}

EN: dict[str, object] = {
    # relative performance (chapter 12)
    "viz.perf.title": "Performance relative to native Linux (SOSP'03, Figure 3)",
    # xentop as a live table (chapter 13)
    "viz.xentop.title": "xentop: CPU(%) per domain",
    "viz.xentop.next": "Next sample",
    "viz.xentop.error": "The widget hit an error: {error}",
    # live migration (chapter 14)
    "viz.migration.title": "Live migration: pre-copy iterations",
    "viz.migration.x": "time (s)",
    "viz.migration.y": "rate (Mb/s)",
    "viz.migration.downtime": "downtime {ms:.1f} ms",
}

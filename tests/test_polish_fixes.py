"""Issue 12's Polish fixes stay fixed, and the cells a student reads use only public names.

tests/test_prose_fixes.py holds the phrases fixed in the chapters' text; this file adds the ones that
live elsewhere (exercise checks, catalogues, chapter 08's and 11's wording, the contents notebook as
built) and checks the code cells for private names (`mm._l1_for`, `_take_pfn` were once used there).
"""
import re
from pathlib import Path

import nbformat
import pytest

from xenlab.coursebuild import parse

ROOT = Path(__file__).resolve().parents[1]


def text_of(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


# (file, the wrong phrase, the right one that replaced it)
FIXED = [
    ("course/08_time.md", "czasu rzeczywistego (systemowego)", None),          # -> względem czasu systemowego
    ("course/11_network.md", "w pamięci ARP", "w pamięci podręcznej ARP"),
    ("course/07_scheduling.md", "odgrywa uśpienie", "obsługę dysku udaje uśpienie"),
    ("course/07_scheduling.md", "pod Credit", "z planistą Credit"),
    ("course/06_events.md", "zgłaszając wyjątki:", "wyjątków"),
    ("course/01_introduction.md", "podaje się mu", "podaje mu się"),
    ("xenlab/grading/checks/ex08_system_time.py", "znaczku czasu", "znaczniku"),
    ("xenlab/i18n/pl.py", "na żywej maszynie", "na działającej maszynie"),
    ("xenlab/i18n/catalogues/viz_io.py", "gość->backend", "gość->część zaplecza"),
]


@pytest.mark.parametrize("rel, wrong, right", FIXED, ids=[f"{r.split('/')[-1]}:{w[:20]}" for r, w, _ in FIXED])
def test_a_fixed_polish_phrase_stays_fixed(rel, wrong, right):
    text = text_of(rel)
    assert wrong not in text
    if right:
        assert right in text


def test_the_built_contents_announce_no_missing_chapter():
    nb = nbformat.read(str(ROOT / "notebooks" / "pl" / "00_contents.ipynb"), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "w przygotowaniu" not in text and "Wykład" in text


# An attribute or a name that starts with "_" (but not a dunder) in a code cell a student runs.
PRIVATE = re.compile(r"(?<![\w])(?:[A-Za-z]\w*\.)+_(?!_)\w+|\bimport\s+_\w+|\bimport\b[^\n]*,\s*_(?!_)\w+")


def test_the_scanner_finds_private_names():
    assert PRIVATE.search("pfn = mm._l1_for(va)")
    assert PRIVATE.search("from xenlab.guest.mm import map_page, _take_pfn")
    assert not PRIVATE.search("print(d.__class__.__name__); f(_x)")


@pytest.mark.parametrize("src", sorted((ROOT / "course").glob("*.md")), ids=lambda p: p.stem)
def test_code_cells_use_public_names(src):
    found = [f"{src.name}:{b.line}: {m.group()}" for b in parse(src).blocks if b.kind == "code"
             for m in PRIVATE.finditer(b.text)]
    assert not found, "\n".join(found)

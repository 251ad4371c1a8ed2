"""Per-area catalogues: each module holds one area's messages as two dicts, PL and EN.

``xenlab.i18n`` merges them with the core catalogues (``pl.py``, ``en.py``) into one lookup; a key may
live in one place only (the merge refuses a repeat). Keys are namespaced by area: ``viz.ring.*``,
``viz.cpu.*`` ... Add a module here when an area's strings would crowd the core catalogues: every
module of this package is an area (found by name, in sorted order, so the lookup is the same in every
process), and must define PL and EN.
"""
import importlib
import pkgutil

AREAS = tuple(importlib.import_module(f"{__name__}.{m.name}")
              for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name) if not m.ispkg)

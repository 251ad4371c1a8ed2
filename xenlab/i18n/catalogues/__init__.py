"""Per-area catalogues: each module holds one area's messages as two dicts, PL and EN.

``xenlab.i18n`` merges them with the core catalogues (``pl.py``, ``en.py``) into one lookup; a key may
live in one place only (the merge refuses a repeat). Keys are namespaced by area: ``viz.ring.*``,
``viz.cpu.*`` ... Add a module here when an area's strings would crowd the core catalogues, and list it
in AREAS.
"""
from xenlab.i18n.catalogues import grading_trust, viz_cpu, viz_io, viz_manage, viz_memory

AREAS = (viz_cpu, viz_io, viz_manage, viz_memory, grading_trust)

"""Same seed, same trace, in any process: the full serialised trace of an I/O scenario is compared
between two interpreters started with different PYTHONHASHSEED values (so neither string hashing,
set order nor object addresses may leak into it)."""
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import xenlab
from xenlab.xen.public.grant_table import GnttabSetupTable
from xenlab.xen.trace import plain

SCENARIO = Path(__file__).with_name("trace_scenario.py")
ROOT = Path(xenlab.__file__).resolve().parent.parent


def trace_in_subprocess(seed: int, hashseed: str, folder: Path) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hashseed, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(SCENARIO), str(seed), str(folder)], env=env, check=True,
                         capture_output=True, text=True, timeout=120)
    return out.stdout


def test_same_seed_same_trace_across_processes(tmp_path):
    first = trace_in_subprocess(3, "1", tmp_path)
    second = trace_in_subprocess(3, "4242", tmp_path)
    lines = first.splitlines()
    # The scenario really did block and network I/O and a save/restore (else the comparison is hollow).
    for what in ("'blkif_", "'netif_rx", "'bridge_forward'", "'save_done'", "'restore'"):
        assert any(what in line for line in lines), what
    assert " at 0x" not in first
    assert first == second
    assert trace_in_subprocess(4, "1", tmp_path) != first            # and the seed does matter


def test_plain_keeps_instance_fields_only():
    """A struct's ClassVar LAYOUT (an object whose repr is its address) is not part of the value."""
    op = GnttabSetupTable(dom=7, nr_frames=4)
    value = plain(op)
    assert value[0] == "GnttabSetupTable"
    assert [k for k, _ in value[1:]] == ["dom", "nr_frames", "status", "frame_list"]
    assert ("dom", 7) in value and ("nr_frames", 4) in value


def test_plain_data_has_no_address_and_no_hash_order():
    @dataclass
    class Probe:
        KIND: ClassVar[str] = "probe"
        tags: frozenset
        thing: object

    value = plain(Probe(frozenset({"vbd", "vif", "console", "xenstore"}), object()))
    assert value == ("Probe", ("tags", ("console", "vbd", "vif", "xenstore")), ("thing", "<object>"))
    assert plain(bytearray(b"ab")) == b"ab"
    import numpy as np
    assert plain(np.float64(1.5)) == 1.5 and plain(np.uint32(7)) == 7 and plain(np.arange(3)) == (0, 1, 2)

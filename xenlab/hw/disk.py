"""The machine's disk, as far as time goes: how long one request takes.

dom0's block back end (dom0/blkback.py) serves a queue with these costs; a workload that has no disk
sleeps as long as the disk would take (guest/workload.py).

Simplifications:
- One request at a time, a fixed cost per request plus one per 512-byte sector; no seek model.
"""
from __future__ import annotations

DISK_REQUEST_NS = 50_000          # per request: command overhead and rotation, roughly
DISK_SECTOR_NS = 10_000           # per 512-byte sector: ~50 MB/s transfer

__all__ = ["DISK_REQUEST_NS", "DISK_SECTOR_NS"]

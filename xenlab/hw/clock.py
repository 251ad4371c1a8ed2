"""The simulated machine's event order: priorities for things due at the same nanosecond.

The model is a discrete-event simulation: one queue of timers (xen/timer.py keeps it, as Xen's timer
heap) holds Xen's own timers, the guests' progress through their programs and the devices' delays.
When two are due at the same nanosecond the simulation needs a fixed order so that a seed gives the
same run; real hardware has no such rule (things happen in parallel). These priorities are that rule
of the simulated machine, not part of Xen's interface, so they live with the hardware and every layer
uses them from here.
"""
from __future__ import annotations

PRIO_TICK = 0          # periodic ticks (the timer interrupt) first
PRIO_SCHED = 10        # then scheduling decisions
PRIO_GUEST = 20        # then the guests' progress
PRIO_DEFAULT = 50      # devices and everything else

__all__ = ["PRIO_TICK", "PRIO_SCHED", "PRIO_GUEST", "PRIO_DEFAULT"]

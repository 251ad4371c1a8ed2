"""Timers, softirqs and the system clock (X@RELEASE-3.0.0:xen/common/timer.c, softirq.c, NOW()).

Xen keeps a heap of timers per CPU; when the earliest expires, the TIMER softirq runs its handler,
and handlers raise further softirqs (SCHEDULE above all) that run before Xen returns to a guest.
The model keeps one heap for the machine, ordered by (expiry, priority, sequence) so that timers
due at the same nanosecond fire in a fixed order: the same seed gives the same run.

Simplifications:
- One heap for all CPUs instead of one per CPU; the timer still records its CPU for the trace.
- Time is an integer count of nanoseconds that jumps from one expiry to the next (discrete events).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Callable

STIME_MAX = (1 << 63) - 1

# Softirq numbers (X@RELEASE-3.0.0:xen/include/xen/softirq.h:5-12); lower runs first. 3.0.0 still
# calls the timer softirq AC_TIMER_SOFTIRQ (later Xen renamed ac_timer to timer: TIMER_SOFTIRQ).
AC_TIMER_SOFTIRQ = 0
TIMER_SOFTIRQ = AC_TIMER_SOFTIRQ
SCHEDULE_SOFTIRQ = 1
NEW_TLBFLUSH_CLOCK_PERIOD_SOFTIRQ = 2
KEYPRESS_SOFTIRQ = 3
NMI_SOFTIRQ = 4
PAGE_SCRUB_SOFTIRQ = 5
DOMAIN_SHUTDOWN_FINALISE_SOFTIRQ = 6   # the model finalises a shutdown at once and never raises it
NR_SOFTIRQS = 7
SOFTIRQ_NAMES = {AC_TIMER_SOFTIRQ: "AC_TIMER", SCHEDULE_SOFTIRQ: "SCHEDULE",
                 NEW_TLBFLUSH_CLOCK_PERIOD_SOFTIRQ: "NEW_TLBFLUSH_CLOCK_PERIOD",
                 KEYPRESS_SOFTIRQ: "KEYPRESS", NMI_SOFTIRQ: "NMI", PAGE_SCRUB_SOFTIRQ: "PAGE_SCRUB",
                 DOMAIN_SHUTDOWN_FINALISE_SOFTIRQ: "DOMAIN_SHUTDOWN_FINALISE"}

# Priorities for timers due at the same instant: the simulation's rule, kept with the machine (hw/clock.py).
from xenlab.hw.clock import PRIO_DEFAULT, PRIO_GUEST, PRIO_SCHED, PRIO_TICK  # noqa: E402,F401


@dataclass(eq=False)
class Timer:
    """struct timer: a one-shot callback ``function(data)`` at ``expires`` (ns)."""
    name: str
    function: Callable[[Any], None]
    data: Any = None
    cpu: int = 0
    priority: int = PRIO_DEFAULT
    expires: int = 0
    active: bool = False
    killed: bool = False
    _generation: int = field(default=0, repr=False)

    def __repr__(self) -> str:
        state = "killed" if self.killed else (f"due {self.expires}ns" if self.active else "inactive")
        return f"<Timer {self.name} cpu{self.cpu} {state}>"


class TimerQueue:
    """The machine's timer heap. Stale heap entries are skipped by generation number."""

    def __init__(self):
        self._heap: list[tuple[int, int, int, int, Timer]] = []
        self._seq = 0
        self.now = 0

    def init_timer(self, name: str, function: Callable[[Any], None], data: Any = None,
                   cpu: int = 0, priority: int = PRIO_DEFAULT) -> Timer:
        return Timer(name, function, data, cpu, priority)

    def set_timer(self, timer: Timer, expires: int) -> None:
        if timer.killed:
            raise RuntimeError(f"set_timer on killed timer {timer.name}")
        expires = int(expires)
        if expires < self.now:
            expires = self.now      # Xen fires a timer set in the past at once
        timer._generation += 1
        timer.expires = expires
        timer.active = True
        self._seq += 1
        heapq.heappush(self._heap, (expires, timer.priority, self._seq, timer._generation, timer))

    def stop_timer(self, timer: Timer) -> None:
        if timer.active:
            timer.active = False
            timer._generation += 1

    def kill_timer(self, timer: Timer) -> None:
        self.stop_timer(timer)
        timer.killed = True

    def _clean(self) -> None:
        heap = self._heap
        while heap and (not heap[0][4].active or heap[0][3] != heap[0][4]._generation):
            heapq.heappop(heap)

    def next_expiry(self) -> int | None:
        self._clean()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, until: int | None = None) -> Timer | None:
        """Remove and return the earliest active timer (if due by ``until``); advances ``now``."""
        self._clean()
        if not self._heap:
            return None
        expires, _, _, _, timer = self._heap[0]
        if until is not None and expires > until:
            return None
        heapq.heappop(self._heap)
        timer.active = False
        self.now = max(self.now, expires)
        return timer

    def pending(self) -> list[Timer]:
        """Active timers in firing order (for dumps and widgets)."""
        live = [e for e in self._heap if e[4].active and e[3] == e[4]._generation]
        return [e[4] for e in sorted(live, key=lambda e: e[:3])]

    def __len__(self) -> int:
        return len(self.pending())

    def __repr__(self) -> str:
        return f"<TimerQueue now={self.now}ns, {len(self)} pending>"

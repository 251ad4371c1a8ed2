"""The simulator's order for events due at the same nanosecond (not Xen ABI, not Xen at all).

Real hardware has no such rule: two interrupts at "the same instant" arrive in some order the
machine decides. The model's event queue (xen/timer.py's heap, ordered by expiry, then priority,
then sequence) needs a deterministic tie-break, and every layer that arms a timer (Xen's timers,
the NIC and disk models, dom0's daemons, xend) uses these. They live with the hardware so that
dom0 and the toolstack need not import Xen's internals to arm a timer.
"""
PRIO_TICK = 0          # hardware-ish ticks first
PRIO_SCHED = 10
PRIO_GUEST = 20
PRIO_DEFAULT = 50      # guest progress, daemons, the toolstack: last

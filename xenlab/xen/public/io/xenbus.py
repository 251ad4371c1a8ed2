"""xenbus device states: Xen's ``xen/include/public/io/xenbus.h``.

Models RELEASE-3.0.0's ``enum xenbus_state`` (plus Reconfiguring/Reconfigured from later headers).
Each end of a split device writes its state into its own XenStore directory (``.../state``, as a
decimal string) and watches the other end's; the handshake is in xenlab/guest/xenbus.py.

Simplifications:
- None: this header is a list of numbers.
"""
from __future__ import annotations

from enum import IntEnum


class XenbusState(IntEnum):
    """``enum xenbus_state``; ``str(int(state))`` is what goes into XenStore."""
    Unknown = 0
    Initialising = 1
    InitWait = 2        # finished early init, waiting for the peer or hotplug information
    Initialised = 3     # waiting for a connection from the peer
    Connected = 4
    Closing = 5         # being closed after an error or an unplug
    Closed = 6
    Reconfiguring = 7   # modern
    Reconfigured = 8    # modern

    def __str__(self) -> str:
        return f"XenbusState{self.name}"


# Xen's own flat names, for code that mirrors C.
XenbusStateUnknown = XenbusState.Unknown
XenbusStateInitialising = XenbusState.Initialising
XenbusStateInitWait = XenbusState.InitWait
XenbusStateInitialised = XenbusState.Initialised
XenbusStateConnected = XenbusState.Connected
XenbusStateClosing = XenbusState.Closing
XenbusStateClosed = XenbusState.Closed
XenbusStateReconfiguring = XenbusState.Reconfiguring
XenbusStateReconfigured = XenbusState.Reconfigured

"""Virtual network interface: Xen's ``xen/include/public/io/netif.h``.

Models RELEASE-3.0.0's netif: two rings per interface, TX (the guest sends: requests name a granted
page holding the packet) and RX (the guest posts empty granted pages; responses say where a packet
landed), with the modern flag bits and status codes from libxen-dev 4.17.  ``netif_rx_request`` uses
the modern layout with an explicit ``pad`` (3.0's implicit padding gives the same 8 bytes).

Simplifications:
- No extra-info slots (GSO, multicast, hash), no multi-slot packets (``NETTXF_more_data`` is only a
  constant), no control ring.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xenlab.xen.public.grant_table import CStruct, StructLayout
from xenlab.xen.public.io.ring import SRING_HEADER_SIZE, SharedRing, ring_size

NETTXF_csum_blank = 1 << 0      # the protocol checksum field is blank
NETTXF_data_validated = 1 << 1  # the packet data has been validated against its checksum
NETTXF_more_data = 1 << 2       # the packet continues in the next request
NETTXF_extra_info = 1 << 3      # an extra-info slot follows

NETRXF_data_validated = 1 << 0
NETRXF_csum_blank = 1 << 1
NETRXF_more_data = 1 << 2
NETRXF_extra_info = 1 << 3
NETRXF_gso_prefix = 1 << 4

NETIF_RSP_DROPPED = -2
NETIF_RSP_ERROR = -1
NETIF_RSP_OKAY = 0
NETIF_RSP_NULL = 1              # modern: a response slot for an extra-info request

XEN_NETIF_NR_SLOTS_MIN = 18


@dataclass
class NetifTxRequest(CStruct):
    """``netif_tx_request`` (12 bytes): the packet is ``size`` bytes at ``offset`` in granted page ``gref``."""
    gref: int = 0
    offset: int = 0
    flags: int = 0     # NETTXF_*
    id: int = 0        # echoed in the response
    size: int = 0      # bytes
    LAYOUT: ClassVar = StructLayout("netif_tx_request", [
        ("gref", "grant_ref_t"), ("offset", "uint16_t"), ("flags", "uint16_t"), ("id", "uint16_t"),
        ("size", "uint16_t")])


@dataclass
class NetifTxResponse(CStruct):
    """``netif_tx_response`` (4 bytes): ``status`` is NETIF_RSP_*."""
    id: int = 0
    status: int = NETIF_RSP_OKAY
    LAYOUT: ClassVar = StructLayout("netif_tx_response", [("id", "uint16_t"), ("status", "int16_t")])


@dataclass
class NetifRxRequest(CStruct):
    """``netif_rx_request`` (8 bytes): an empty page offered for a packet (copy) or a page flip."""
    id: int = 0
    pad: int = 0
    gref: int = 0
    LAYOUT: ClassVar = StructLayout("netif_rx_request", [
        ("id", "uint16_t"), ("pad", "uint16_t"), ("gref", "grant_ref_t")])


@dataclass
class NetifRxResponse(CStruct):
    """``netif_rx_response`` (8 bytes): ``status`` < 0 is an error, else the packet size in bytes."""
    id: int = 0
    offset: int = 0
    flags: int = 0     # NETRXF_*
    status: int = 0
    LAYOUT: ClassVar = StructLayout("netif_rx_response", [
        ("id", "uint16_t"), ("offset", "uint16_t"), ("flags", "uint16_t"), ("status", "int16_t")])


# Both rings: (4096 - 64) // 12 = 336 -> 256 and 4032 // 8 = 504 -> 256 entries.
NET_TX_RING_SIZE = ring_size(4096, SRING_HEADER_SIZE, NetifTxRequest.sizeof())
NET_RX_RING_SIZE = ring_size(4096, SRING_HEADER_SIZE, NetifRxRequest.sizeof())


def new_netif_tx_sring(memory=None, maddr=None, *, init: bool = True, on_event=None) -> SharedRing:
    """A ``netif_tx_sring``: the guest's transmit ring."""
    return SharedRing(memory=memory, maddr=maddr, entry_size=NetifTxRequest.sizeof(),
                      req_codec=NetifTxRequest, rsp_codec=NetifTxResponse, init=init, on_event=on_event)


def new_netif_rx_sring(memory=None, maddr=None, *, init: bool = True, on_event=None) -> SharedRing:
    """A ``netif_rx_sring``: the guest's receive ring."""
    return SharedRing(memory=memory, maddr=maddr, entry_size=NetifRxRequest.sizeof(),
                      req_codec=NetifRxRequest, rsp_codec=NetifRxResponse, init=init, on_event=on_event)

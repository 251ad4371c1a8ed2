"""The I/O request page: Xen's ``xen/include/public/io/ioreq.h`` in 3.0.0 (``public/hvm/ioreq.h`` from 3.0.2 on).

Xen and the device model (qemu-dm in dom0) share one page per HVM domain holding one ``ioreq`` per
vcpu. On a port access Xen fills the vcpu's ioreq, sets it STATE_IOREQ_READY and notifies the
ioreq's event channel (``vp_eport``); qemu-dm marks it INPROCESS, emulates, writes ``data`` and sets
STATE_IORESP_READY, then notifies back.

Simplifications:
- The page is a list of ``ioreq`` records, not bytes; no ``pdata``/``df`` (rep string I/O) fields. So
  it has no C layout: 3.0.0's ``ioreq_t`` packs ``state``, ``pdata_valid``, ``dir`` and ``df`` as
  bitfields of one byte, and its page (``shared_iopage_t``) also holds the PIC's registers.
- ``vp_eport`` sits in each vcpu's ioreq as in later headers (3.0.2+); 3.0.0 had one ``eport`` for the
  whole domain in ``global_iodata_t``. Per vcpu reads more plainly and the model has one vcpu per HVM guest.
- ``STATE_IOREQ_NONE`` is 3.0.0's ``STATE_INVALID`` (same value, the later name).
"""
from __future__ import annotations

from dataclasses import dataclass

IOREQ_READ = 1
IOREQ_WRITE = 0
STATE_IOREQ_NONE = 0      # 3.0.0 called it STATE_INVALID
STATE_IOREQ_READY = 1
STATE_IOREQ_INPROCESS = 2
STATE_IORESP_READY = 3
IOREQ_TYPE_PIO = 0        # pio
IOREQ_TYPE_COPY = 1       # mmio ops


@dataclass
class ioreq:
    """struct ioreq in the shared ioreq page: one per vcpu."""
    addr: int = 0
    data: int = 0
    count: int = 1
    size: int = 1
    vp_eport: int = 0
    state: int = STATE_IOREQ_NONE
    dir: int = IOREQ_WRITE
    type: int = IOREQ_TYPE_PIO


__all__ = ["IOREQ_READ", "IOREQ_WRITE", "STATE_IOREQ_NONE", "STATE_IOREQ_READY", "STATE_IOREQ_INPROCESS",
           "STATE_IORESP_READY", "IOREQ_TYPE_PIO", "IOREQ_TYPE_COPY", "ioreq"]

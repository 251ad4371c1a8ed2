"""XenStore wire protocol: Xen's ``xen/include/public/io/xs_wire.h``.

Models RELEASE-3.0.0's message types (plus the later additions, same numbers as libxen-dev 4.17),
the ``xsd_sockmsg`` header, the errno names xenstored sends back in an ``XS_ERROR`` reply, and the
shared page a guest talks to xenstored through (two 1024-byte byte rings).  The store itself is
xenlab/dom0/xenstore.py.

Simplifications:
- Messages are not framed on the byte rings here; xenstore.py takes calls, not bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xenlab.xen.public.cstruct import StructLayout

XS_CONTROL = 0
XS_DEBUG = XS_CONTROL
XS_DIRECTORY = 1
XS_READ = 2
XS_GET_PERMS = 3
XS_WATCH = 4
XS_UNWATCH = 5
XS_TRANSACTION_START = 6
XS_TRANSACTION_END = 7
XS_INTRODUCE = 8
XS_RELEASE = 9
XS_GET_DOMAIN_PATH = 10
XS_WRITE = 11
XS_MKDIR = 12
XS_RM = 13
XS_SET_PERMS = 14
XS_WATCH_EVENT = 15
XS_ERROR = 16
XS_IS_DOMAIN_INTRODUCED = 17   # modern
XS_RESUME = 18
XS_SET_TARGET = 19
XS_RESET_WATCHES = XS_SET_TARGET + 2   # 20 was XS_RESTRICT, since removed
XS_DIRECTORY_PART = 22
XS_TYPE_COUNT = 23
XS_INVALID = 0xFFFF

XS_NAMES = {v: k for k, v in dict(globals()).items()
            if k.startswith("XS_") and isinstance(v, int) and k not in ("XS_DEBUG", "XS_TYPE_COUNT")}

# The errors xenstored may send (xsd_errors[], in Xen's order).
XSD_ERRORS = ("EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO",
              "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM")

OK = "OK"  # the payload of xenstored's acknowledgement


@dataclass(frozen=True)
class XsError:
    """An XS_ERROR reply: ``errno`` is the name xenstored sends, e.g. "ENOENT"."""
    errno: str

    def __repr__(self) -> str:
        return f"XsError({self.errno})"


def is_error(reply) -> bool:
    """Was the reply an XS_ERROR?"""
    return isinstance(reply, XsError)


XS_WATCH_PATH = 0    # index of the path in a WATCH_EVENT payload
XS_WATCH_TOKEN = 1   # index of the token

XENSTORE_RING_SIZE = 1024        # bytes in each of the req and rsp byte rings
XENSTORE_PAYLOAD_MAX = 4096      # bytes of payload in one message
XENSTORE_ABS_PATH_MAX = 3072     # longest absolute path, in bytes
XENSTORE_REL_PATH_MAX = 2048     # longest relative path
XENSTORE_SERVER_FEATURE_RECONNECTION = 1
XENSTORE_SERVER_FEATURE_ERROR = 2
XENSTORE_CONNECTED = 0
XENSTORE_RECONNECT = 1


def MASK_XENSTORE_IDX(idx: int) -> int:
    """A free-running byte-ring index to a byte offset in ``req``/``rsp``."""
    return idx & (XENSTORE_RING_SIZE - 1)


# struct xenstore_domain_interface: req[1024], rsp[1024], four XENSTORE_RING_IDX (3.0.0 ends there),
# then server_features, connection and error (Xen 4.x's additions, as in libxen-dev 4.17).
XENSTORE_DOMAIN_INTERFACE = StructLayout("xenstore_domain_interface", [
    ("req", "char", XENSTORE_RING_SIZE), ("rsp", "char", XENSTORE_RING_SIZE),
    ("req_cons", "XENSTORE_RING_IDX"), ("req_prod", "XENSTORE_RING_IDX"),
    ("rsp_cons", "XENSTORE_RING_IDX"), ("rsp_prod", "XENSTORE_RING_IDX"),
    ("server_features", "uint32_t"), ("connection", "uint32_t"), ("error", "uint32_t")])
_off = XENSTORE_DOMAIN_INTERFACE.offsetof
XS_IFACE_REQ, XS_IFACE_RSP = _off("req"), _off("rsp")                                      # 0, 1024
XS_IFACE_REQ_CONS, XS_IFACE_REQ_PROD = _off("req_cons"), _off("req_prod")                  # 2048, 2052
XS_IFACE_RSP_CONS, XS_IFACE_RSP_PROD = _off("rsp_cons"), _off("rsp_prod")                  # 2056, 2060
XS_IFACE_SERVER_FEATURES, XS_IFACE_CONNECTION, XS_IFACE_ERROR = (
    _off("server_features"), _off("connection"), _off("error"))                            # 2064, 2068, 2072


@dataclass
class XsdSockmsg:
    """``struct xsd_sockmsg``: the 16-byte header in front of every message (4 x uint32)."""
    type: int
    req_id: int = 0
    tx_id: int = 0     # 0: not in a transaction
    len: int = 0       # bytes of payload that follow (nul-separated strings)

    SIZE = 16
    LAYOUT: ClassVar = StructLayout("xsd_sockmsg", [
        ("type", "uint32_t"), ("req_id", "uint32_t"), ("tx_id", "uint32_t"), ("len", "uint32_t")])

    def pack(self) -> bytes:
        return self.LAYOUT.pack([self.type, self.req_id, self.tx_id, self.len])

    @classmethod
    def unpack(cls, raw: bytes) -> XsdSockmsg:
        return cls(*cls.LAYOUT.unpack(raw))

"""The data-only channel between the grader and a sandboxed submission: framing and the value codec.

Both ends import this module (it holds no check, no reference, no secret). A frame is a 4-byte
big-endian length and that many bytes of UTF-8 JSON. Values cross as plain data only:

    None, bool, int, float, str     JSON itself
    list                            a JSON array
    tuple / dict / bytes / set      {"t": [...]}, {"d": [[k, v], ...]}, {"b": base64}, {"s": [...]}
    a grader object                 {"r": id}        (the submission gets a proxy, see worker.py)
    a method of a grader object     {"m": [id, name]}

Decoding builds fresh builtin objects (exactly int, str, list ...), so nothing a submission sends can
carry its own __eq__, __hash__ or __bool__ into the grader. Sizes and nesting are bounded: a frame
over MAX_FRAME bytes or nested deeper than MAX_DEPTH is refused (WireError), never half-read.
"""
from __future__ import annotations

import base64
import json
import os
import struct

MAX_FRAME = 32 * 1024 * 1024
MAX_DEPTH = 64
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The other end sent something that is not a valid frame or value (or the channel closed)."""


class Ref:
    """A grader object's handle as seen by the codec (id, and for a method its name)."""
    __slots__ = ("id", "method")

    def __init__(self, id: int, method: str | None = None):
        self.id = id
        self.method = method


def encode(value, ref=None, depth: int = 0):
    """`value` as JSON-able plain data; `ref(obj)` turns any other object into a Ref (or raises)."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    t = type(value)
    if value is None or t is bool or t is str or t is float:
        return value
    if t is int:
        return value
    if t is list:
        return [encode(v, ref, depth + 1) for v in value]
    if t is tuple:
        return {"t": [encode(v, ref, depth + 1) for v in value]}
    if t is dict:
        return {"d": [[encode(k, ref, depth + 1), encode(v, ref, depth + 1)] for k, v in value.items()]}
    if t is bytes:
        return {"b": base64.b64encode(value).decode("ascii")}
    if t in (set, frozenset):
        return {"s": [encode(v, ref, depth + 1) for v in value]}
    if isinstance(value, Ref):
        return {"r": value.id} if value.method is None else {"m": [value.id, value.method]}
    if ref is not None and isinstance(value, tuple) and hasattr(type(value), "_fields"):
        try:                                  # a named tuple keeps its field names: a handle, if allowed
            return encode(ref(value), ref, depth)
        except Exception:
            pass
    plain = to_plain(value)
    if plain is not _NOT_PLAIN:
        return encode(plain, ref, depth)
    if ref is None:
        raise WireError(f"a value of type {t.__name__} is not plain data")
    return encode(ref(value), ref, depth)


_NOT_PLAIN = object()


def to_plain(value):
    """Subclasses of the builtins and numpy values as the plain builtin they stand for, else _NOT_PLAIN."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, tuple):
        return tuple.__new__(tuple, value)
    if isinstance(value, list):
        return list(list.__iter__(value))
    if isinstance(value, dict):
        return {k: v for k, v in dict.items(value)}
    mod = type(value).__module__ or ""
    if mod == "numpy" or mod.startswith("numpy."):
        if hasattr(value, "tolist"):
            return value.tolist()
    if isinstance(value, (set, frozenset)):
        return set(value)
    return _NOT_PLAIN


def decode(data, deref=None, depth: int = 0):
    """The plain value `data` stands for; `deref(Ref)` resolves handles (None: handles are refused)."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    t = type(data)
    if data is None or t in (bool, int, float, str):
        return data
    if t is list:
        return [decode(v, deref, depth + 1) for v in data]
    if t is dict and len(data) == 1:
        (tag, body), = data.items()
        if tag == "t" and type(body) is list:
            return tuple(decode(v, deref, depth + 1) for v in body)
        if tag == "d" and type(body) is list:
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("bad dict entry")
                key = decode(pair[0], deref, depth + 1)
                _hashable(key)
                out[key] = decode(pair[1], deref, depth + 1)
            return out
        if tag == "b" and type(body) is str:
            try:
                return base64.b64decode(body.encode("ascii"), validate=True)
            except Exception as exc:
                raise WireError(f"bad bytes: {exc}") from None
        if tag == "s" and type(body) is list:
            items = [decode(v, deref, depth + 1) for v in body]
            for k in items:
                _hashable(k)
            return set(items)
        if tag == "r" and type(body) is int and deref is not None:
            return deref(Ref(body))
        if (tag == "m" and type(body) is list and len(body) == 2 and type(body[0]) is int
                and type(body[1]) is str and deref is not None):
            return deref(Ref(body[0], body[1]))
    raise WireError(f"not a value: {str(data)[:80]}")


def _hashable(key) -> None:
    if type(key) in (str, int, float, bool, bytes) or key is None:
        return
    if type(key) is tuple:
        for k in key:
            _hashable(k)
        return
    raise WireError("a dict key or set item must be a str, number, bytes, None or tuple of those")


# --- frames --------------------------------------------------------------------------------------------

def dumps(message: dict) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes is over the limit of {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, message: dict) -> None:
    data = memoryview(dumps(message))
    while data:
        n = os.write(fd, data)
        data = data[n:]


def parse(body: bytes) -> dict:
    try:
        message = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    if type(message) is not dict:
        raise WireError("a frame must hold a JSON object")
    return message


class FrameReader:
    """Reads frames from a file descriptor, each within a deadline (None: wait forever)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, n: int, deadline: float | None, clock) -> None:
        import select
        while len(self.buf) < n:
            if deadline is not None:
                left = deadline - clock()
                if left <= 0:
                    raise TimeoutError()
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise TimeoutError()
            chunk = os.read(self.fd, max(65536, min(n - len(self.buf), 1 << 22)))
            if not chunk:
                raise WireError("the channel closed")
            self.buf += chunk

    def read(self, deadline: float | None = None, clock=None) -> dict:
        import time
        clock = clock or time.monotonic
        self._fill(4, deadline, clock)
        (size,) = _HEADER.unpack(bytes(self.buf[:4]))
        if size > MAX_FRAME:
            raise WireError(f"frame of {size} bytes is over the limit of {MAX_FRAME}")
        self._fill(4 + size, deadline, clock)
        body = bytes(self.buf[4:4 + size])
        del self.buf[:4 + size]
        return parse(body)

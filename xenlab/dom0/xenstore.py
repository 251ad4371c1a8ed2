"""XenStore: the hierarchical store xenstored keeps in dom0.

Models xenstored at RELEASE-3.0.0 (tools/xenstore/xenstored_core.c, _watch.c, _transaction.c,
_domain.c) with the wire numbers of io/xs_wire.h: nodes with a value and permissions, watches, and
transactions.  Each caller is an ``XsConnection`` (one per domain, dom0 may open several); its
methods are the XS_* requests.  A guest's bad request gets an ``XsError`` naming xenstored's errno
("ENOENT", "EACCES", "EAGAIN" ...), returned, never raised; Python misuse (a path that is not a
string) raises.

Rules (xen-facts section 12):
- WRITE creates missing parents with empty values; MKDIR of an existing node is fine; RM removes a
  subtree and is fine on an absent node whose parent exists.
- Permissions: the first entry names the owner and the access of everyone not listed; dom0 and the
  owner may do anything; letters r (read), w (write), b (both), n (none).  New nodes inherit their
  parent's permissions, except that a domain owns what it creates.
- A watch fires once when registered, then on any change to its path or below; RM also fires the
  watches set below the removed node.  Events ``(path, token)`` queue on the watcher's connection.
- A transaction works on a private copy; its changes fire watches only on commit.  As in 3.0
  ("FIXME: Merge, rather failing on any change"), a commit fails with EAGAIN if anything in the store
  changed since the transaction started.

Simplifications:
- No message framing on the shared byte rings, no quotas, no per-connection transaction limits.
- Watch events are not filtered by the watcher's read permission.
- Children are listed sorted by name (xenstored keeps creation order), for determinism.
"""
from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass, field

from xenlab.xen.public.io.xs_wire import OK, XENSTORE_ABS_PATH_MAX, XENSTORE_PAYLOAD_MAX, XsError, is_error

SPECIAL_WATCHES = ("@introduceDomain", "@releaseDomain")
_VALID = re.compile(r"^/([A-Za-z0-9_@\-]+(/[A-Za-z0-9_@\-]+)*)?$")  # xenstored's valid_chars
_LETTERS = {"n": "", "r": "r", "w": "w", "b": "rw"}


def domain_path(domid: int) -> str:
    """A domain's home, which relative paths start from (XS_GET_DOMAIN_PATH)."""
    return f"/local/domain/{int(domid)}"


def parse_perms(perms: list[str]) -> list[tuple[str, int]] | None:
    """["n0", "r5"] -> [("n", 0), ("r", 5)]; None if malformed."""
    out = []
    for p in perms:
        if not isinstance(p, str) or len(p) < 2 or p[0] not in _LETTERS or not p[1:].isdigit():
            return None
        out.append((p[0], int(p[1:])))
    return out or None


@dataclass
class Node:
    value: str = ""
    perms: list[tuple[str, int]] = field(default_factory=lambda: [("n", 0)])
    children: dict[str, Node] = field(default_factory=dict)

    @property
    def owner(self) -> int:
        return self.perms[0][1]


@dataclass
class Transaction:
    id: int
    conn: XsConnection
    root: Node
    generation: int          # the store's generation when it started
    fires: list = field(default_factory=list)  # (path, recurse) to fire on commit
    changed: bool = False


@dataclass
class Watch:
    path: str                # canonical (absolute, or @special)
    token: str
    given: str               # as registered: events on relative watches are reported relative


class XenStore:
    """The store and its connections.  ``store.connect(domid)`` opens a connection."""

    def __init__(self, on_event=None):
        self.root = Node()
        self.generation = 0  # bumped by every committed change (the 3.0 conflict test)
        self.connections: list[XsConnection] = []
        self.transactions: dict[int, Transaction] = {}
        self.introduced: dict[int, tuple[int, int]] = {}  # domid -> (store mfn, store evtchn port)
        self._next_tx = 1
        self.on_event = on_event

    def connect(self, domid: int) -> XsConnection:
        conn = XsConnection(self, int(domid))
        self.connections.append(conn)
        return conn

    def _emit(self, name: str, **payload) -> None:
        if self.on_event is not None:
            self.on_event(name, **payload)

    # -- the tree --------------------------------------------------------------------------------
    @staticmethod
    def _parts(path: str) -> list[str]:
        return [p for p in path.split("/") if p]

    def _lookup(self, root: Node, path: str) -> Node | None:
        node = root
        for name in self._parts(path):
            node = node.children.get(name)
            if node is None:
                return None
        return node

    def _nearest(self, root: Node, path: str) -> Node:
        """The deepest existing node on the way to ``path``."""
        node = root
        for name in self._parts(path):
            if name not in node.children:
                break
            node = node.children[name]
        return node

    @staticmethod
    def access(domid: int, node: Node) -> str:
        """The letters ("", "r", "w", "rw") ``domid`` has on ``node`` (xenstored perm_for_conn)."""
        if domid == 0 or domid == node.owner:
            return "rw"
        for letter, who in node.perms[1:]:
            if who == domid:
                return _LETTERS[letter]
        return _LETTERS[node.perms[0][0]]

    def dump(self, path: str = "/") -> str:
        """Text like xenstore-ls: one node a line, indented, with value and permissions."""
        lines: list[str] = []

        def walk(node: Node, name: str, depth: int) -> None:
            perms = ",".join(f"{p}{d}" for p, d in node.perms)
            lines.append(f"{'  ' * depth}{name} = \"{node.value}\"  ({perms})")
            for child in sorted(node.children):
                walk(node.children[child], child, depth + 1)

        node = self._lookup(self.root, path)
        if node is not None:
            walk(node, path, 0)
        return "\n".join(lines)

    def _count(self, node: Node) -> int:
        return 1 + sum(self._count(c) for c in node.children.values())

    def __repr__(self) -> str:
        return (f"<XenStore {self._count(self.root)} nodes, generation {self.generation}, "
                f"{len(self.connections)} connections, {len(self.transactions)} open transactions>")

    # -- watches ---------------------------------------------------------------------------------
    def _fire(self, path: str, recurse: bool = False, tx: Transaction | None = None) -> None:
        """Queue (path, token) on every watch at or above ``path`` (and below it if ``recurse``)."""
        if tx is not None:
            tx.fires.append((path, recurse))
            return
        for conn in self.connections:
            for w in conn.watches:
                if path == w.path or (not path.startswith("@") and
                                      (w.path == "/" or path.startswith(w.path + "/"))):
                    conn._queue(path, w)
                elif recurse and w.path.startswith(path + "/"):
                    conn._queue(w.path, w)

    # -- domains ---------------------------------------------------------------------------------
    def introduce(self, domid: int, mfn: int, port: int) -> XsConnection:
        """What XS_INTRODUCE does: open the domain's connection, fire @introduceDomain."""
        self.introduced[int(domid)] = (int(mfn), int(port))
        conn = self.connect(domid)
        self._emit("introduce", domid=int(domid), mfn=int(mfn), port=int(port))
        self._fire("@introduceDomain")
        return conn

    def release(self, domid: int) -> None:
        """What XS_RELEASE does: drop the domain's connections, watches and transactions."""
        self.introduced.pop(int(domid), None)
        for conn in [c for c in self.connections if c.domid == domid and c.domid != 0]:
            self.connections.remove(conn)
            for tid in [t for t, tx in self.transactions.items() if tx.conn is conn]:
                del self.transactions[tid]
        self._emit("release", domid=int(domid))
        self._fire("@releaseDomain")


class XsConnection:
    """One client of xenstored: a domain's shared-page connection, or a dom0 tool's socket."""

    def __init__(self, store: XenStore, domid: int):
        self.store = store
        self.domid = domid
        self.watches: list[Watch] = []
        self.events: deque[tuple[str, str]] = deque()  # pending XS_WATCH_EVENTs (path, token)

    def __repr__(self) -> str:
        return f"<XsConnection dom{self.domid}, {len(self.watches)} watches, {len(self.events)} events>"

    def pop_events(self) -> list[tuple[str, str]]:
        out = list(self.events)
        self.events.clear()
        return out

    def _queue(self, path: str, w: Watch) -> None:
        if w.given != w.path and path.startswith(w.path):  # a relative watch hears relative paths
            path = w.given + path[len(w.path):]
        self.events.append((path, w.token))
        self.store._emit("watch_event", domid=self.domid, path=path, token=w.token)

    # -- helpers ---------------------------------------------------------------------------------
    def _canon(self, path: str) -> str | XsError:
        if not isinstance(path, str):
            raise TypeError(f"a XenStore path is a str, not {type(path).__name__}")
        if not path.startswith("/"):  # relative to the domain's home, as xenstored does
            path = f"{domain_path(self.domid)}/{path}" if path else domain_path(self.domid)
        if len(path) > XENSTORE_ABS_PATH_MAX or not _VALID.match(path):
            return XsError("EINVAL")
        return path

    def _ctx(self, path: str, tx: int):
        """(canonical path, root to work on, Transaction or None), or an XsError."""
        path = self._canon(path)
        if is_error(path):
            return path
        if not tx:
            return path, self.store.root, None
        t = self.store.transactions.get(tx)
        if t is None or t.conn is not self:
            return XsError("ENOENT")
        return path, t.root, t

    def _get(self, path: str, tx: int, want: str):
        """(path, root, transaction, node) for a caller needing access ``want`` ("r" or "w").
        ``node`` is None when the node is missing but the caller may see (or create under) its
        nearest ancestor; otherwise a missing node is EACCES (xenstored's errno_from_parents)."""
        ctx = self._ctx(path, tx)
        if is_error(ctx):
            return ctx
        path, root, t = ctx
        node = self.store._lookup(root, path)
        target = node if node is not None else self.store._nearest(root, path)
        if want not in XenStore.access(self.domid, target):
            return XsError("EACCES")
        return path, root, t, node

    def _existing(self, path: str, tx: int, want: str):
        got = self._get(path, tx, want)
        return XsError("ENOENT") if not is_error(got) and got[3] is None else got

    def _changed(self, path: str, t, recurse: bool = False) -> None:
        if t is None:
            self.store.generation += 1
        else:
            t.changed = True
        self.store._fire(path, recurse, t)

    def _create(self, root: Node, path: str) -> Node:
        """Create ``path`` and any missing parents, inheriting permissions (xenstored construct_node)."""
        node = root
        for name in self.store._parts(path):
            if name not in node.children:
                perms = list(node.perms)
                if self.domid != 0:  # "domains own what they create"
                    perms[0] = (perms[0][0], self.domid)
                node.children[name] = Node(perms=perms)
            node = node.children[name]
        return node

    # -- the XS_* requests -------------------------------------------------------------------------
    def read(self, path: str, tx: int = 0):
        got = self._existing(path, tx, "r")
        return got if is_error(got) else got[3].value

    def directory(self, path: str, tx: int = 0):
        got = self._existing(path, tx, "r")
        return got if is_error(got) else sorted(got[3].children)

    def get_perms(self, path: str, tx: int = 0):
        got = self._existing(path, tx, "r")
        return got if is_error(got) else [f"{p}{d}" for p, d in got[3].perms]

    def write(self, path: str, value, tx: int = 0):
        if isinstance(value, bytes):
            value = value.decode("utf-8", "surrogateescape")
        if not isinstance(value, str):
            raise TypeError(f"a XenStore value is a str or bytes, not {type(value).__name__}")
        if len(value) > XENSTORE_PAYLOAD_MAX:
            return XsError("E2BIG")
        got = self._get(path, tx, "w")
        if is_error(got):
            return got
        path, root, t, node = got
        node = node if node is not None else self._create(root, path)
        node.value = value
        self.store._emit("write", domid=self.domid, path=path, tx=tx, value=value)
        self._changed(path, t)
        return OK

    def mkdir(self, path: str, tx: int = 0):
        got = self._get(path, tx, "w")
        if is_error(got):
            return got
        path, root, t, node = got
        if node is not None:
            return OK  # already there: fine, and nothing fires
        self._create(root, path)
        self.store._emit("mkdir", domid=self.domid, path=path, tx=tx)
        self._changed(path, t)
        return OK

    def rm(self, path: str, tx: int = 0):
        got = self._get(path, tx, "w")
        if is_error(got):
            return got
        path, root, t, node = got
        if node is None:  # absent: fine if its parent exists (3.0 do_rm), else ENOENT
            parent = path.rsplit("/", 1)[0] or "/"
            return OK if self.store._lookup(root, parent) is not None else XsError("ENOENT")
        if path == "/":
            return XsError("EINVAL")
        parent_path, name = path.rsplit("/", 1)
        del self.store._lookup(root, parent_path or "/").children[name]
        self.store._emit("rm", domid=self.domid, path=path, tx=tx)
        self._changed(path, t, recurse=True)
        return OK

    def set_perms(self, path: str, perms: list[str], tx: int = 0):
        parsed = parse_perms(list(perms))
        if parsed is None:
            return XsError("EINVAL")
        got = self._existing(path, tx, "w")
        if is_error(got):
            return got
        path, _, t, node = got
        if self.domid not in (0, node.owner):  # only the owner (or the tools) may change them
            return XsError("EACCES")
        node.perms = parsed
        self.store._emit("set_perms", domid=self.domid, path=path, tx=tx, perms=list(perms))
        self._changed(path, t)
        return OK

    def watch(self, path: str, token: str):
        if path.startswith("@"):
            if path not in SPECIAL_WATCHES:
                return XsError("EINVAL")
            canon = path
        else:
            canon = self._canon(path)
            if is_error(canon):
                return canon
        if any(w.path == canon and w.token == token for w in self.watches):
            return XsError("EEXIST")
        w = Watch(canon, str(token), path if not path.startswith("/") else canon)
        self.watches.append(w)
        self.store._emit("watch", domid=self.domid, path=canon, token=w.token)
        self._queue(canon, w)  # every watch fires once at once, so the watcher reads the start state
        return OK

    def unwatch(self, path: str, token: str):
        canon = path if path.startswith("@") else self._canon(path)
        if is_error(canon):
            return canon
        for w in self.watches:
            if w.path == canon and w.token == token:
                self.watches.remove(w)
                return OK
        return XsError("ENOENT")

    def transaction_start(self) -> int:
        st = self.store
        t = Transaction(st._next_tx, self, copy.deepcopy(st.root), st.generation)
        st._next_tx += 1
        st.transactions[t.id] = t
        st._emit("transaction_start", domid=self.domid, tx=t.id)
        return t.id

    def transaction_end(self, tx: int, commit: bool = True):
        st = self.store
        t = st.transactions.get(tx)
        if t is None or t.conn is not self:
            return XsError("ENOENT")
        del st.transactions[tx]
        if commit and t.generation != st.generation:
            st._emit("transaction_end", domid=self.domid, tx=tx, result="EAGAIN")
            return XsError("EAGAIN")  # someone changed the store meanwhile: retry from the start
        if commit and t.changed:
            st.root = t.root
            st.generation += 1
            for path, recurse in t.fires:
                st._fire(path, recurse)
        st._emit("transaction_end", domid=self.domid, tx=tx, result="commit" if commit else "abort")
        return OK

    def get_domain_path(self, domid: int) -> str:
        return domain_path(domid)

    def introduce(self, domid: int, mfn: int, port: int):
        if self.domid != 0:
            return XsError("EACCES")
        self.store.introduce(domid, mfn, port)
        return OK

    def release(self, domid: int):
        if self.domid != 0:
            return XsError("EACCES")
        if domid not in self.store.introduced:
            return XsError("ENOENT")
        self.store.release(domid)
        return OK

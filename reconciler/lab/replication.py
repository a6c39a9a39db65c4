"""A lab node's DRBD replication paths: real TCP connections between the nodes, over the veths.

DRBD replicates over TCP between the addresses of its resource files; a link taken down, or a
peer powered off, breaks that connection, and DRBD falls back to Connecting. The lab's simulated
DRBD (sim/drbd.py) keeps roles, disks and resyncs; this process gives it the part that must be
real. One runs in each node (started at boot in the node's namespaces, killed with them at power
off): for each resource of the node's /etc/drbd.d it listens on the node's address and port,
connects to the peer's, and pings over that connection (DRBD's ping-int and ping-timeout, made
short); the path is up while the answers come back within TIMEOUT. Every TICK it writes what it
measured to `<lab>/<node>/replication.json`; `simstate.transaction` reads both nodes' files
(a stale or missing one counts as down) and the simulated DRBD connects only over paths that
are up on both sides.

Run as `python -I -m reconciler.lab.replication LAB_DIR NODE`: it forks, the parent prints the
child's PID and exits (as holder.py), so that the lab's command returns at once.
"""

import errno
import json
import math
import os
import selectors
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.lab.holder import become_daemon
from reconciler.lab.sim.drbdconf import CONFIG_DIR, node_resources

MODULE = "reconciler.lab.replication"
STATUS_FILE = "replication.json"
TICK = 0.1
PING_EVERY = 0.2
TIMEOUT = 1.0  # no answer for this long: the path is down (DRBD's ping-timeout, shortened)
RESCAN = 0.5  # how often the resource files are read again
STALE = 2.0  # a status file older than this is from a node that is off
USAGE = "usage: python -m reconciler.lab.replication LAB_DIR NODE"

Endpoint = tuple[str, int]


@dataclass
class Path_:
    """The outgoing connection of one resource, and what it measured."""

    resource: str
    peer: Endpoint
    sock: socket.socket | None = None
    connected: bool = False
    started: float = 0.0
    last_ping: float = -math.inf
    last_answer: float = -math.inf
    retry_at: float = -math.inf  # a refused or broken connection is tried again from then

    def up(self, now: float) -> bool:
        return self.connected and now - self.last_answer < TIMEOUT

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.connected = None, False
        self.retry_at = time.monotonic() + PING_EVERY  # not at once: an unreachable peer would spin


@dataclass
class Replication:
    node: str
    status_path: Path
    conf_dir: Path = Path(CONFIG_DIR)
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    listeners: dict[Endpoint, socket.socket] = field(default_factory=dict)
    paths: dict[str, Path_] = field(default_factory=dict)
    last_scan: float = -math.inf
    last_status: float = -math.inf
    signature: tuple[tuple[str, int], ...] = ()

    def wanted(self) -> tuple[set[Endpoint], dict[str, Endpoint]]:
        """The node's listening endpoints, and each resource's peer endpoint, from its files."""
        files = {}
        for entry in sorted(self.conf_dir.glob("*.res")):
            try:
                files[f"{CONFIG_DIR}/{entry.name}"] = entry.read_text(errors="replace")
            except OSError:
                continue
        local: set[Endpoint] = set()
        peers: dict[str, Endpoint] = {}
        for conf in node_resources(files, self.node):
            if conf.address and conf.port:
                local.add((conf.address, conf.port))
            if conf.peer_address and conf.peer_port:
                peers[conf.name] = (conf.peer_address, conf.peer_port)
        return local, peers

    def rescan(self, now: float) -> None:
        self.last_scan = now
        local, peers = self.wanted()
        for endpoint in set(self.listeners) - local:
            self._drop(self.listeners.pop(endpoint))
        for endpoint in local - set(self.listeners):
            self._listen(endpoint)
        for name in set(self.paths) - set(peers):
            self._close(self.paths.pop(name))
        for name, peer in peers.items():
            known = self.paths.get(name)
            if known is None or known.peer != peer:
                if known is not None:
                    self._close(known)
                self.paths[name] = Path_(resource=name, peer=peer)

    def _listen(self, endpoint: Endpoint) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in endpoint[0] else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(endpoint)
        except OSError:
            sock.close()  # the address is not up yet: the next scan tries again
            return
        sock.listen(8)
        sock.setblocking(False)
        self.listeners[endpoint] = sock
        self.selector.register(sock, selectors.EVENT_READ, ("listener", None))

    def _drop(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        sock.close()

    def _close(self, path: Path_) -> None:
        if path.sock is not None:
            self.selector.unregister(path.sock)
        path.close()

    def _connect(self, path: Path_, now: float) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in path.peer[0] else socket.AF_INET)
        sock.setblocking(False)
        code = sock.connect_ex(path.peer)
        if code not in (0, errno.EINPROGRESS):
            sock.close()  # no route (the link is down): try again a little later
            path.retry_at = now + PING_EVERY
            return
        path.sock, path.started = sock, now
        self.selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, ("path", path))

    def tend(self, now: float) -> None:
        """Open, ping and time out the outgoing connections."""
        for path in self.paths.values():
            if path.sock is None:
                if now >= path.retry_at:
                    self._connect(path, now)
            elif not path.connected and now - path.started > TIMEOUT:
                self._close(path)
            elif path.connected and now - path.last_answer > TIMEOUT and now - path.started > TIMEOUT:
                self._close(path)  # pings unanswered: the link is cut or the peer is gone
            elif path.connected and now - path.last_ping >= PING_EVERY:
                path.last_ping = now
                try:
                    path.sock.send(b"p")
                except OSError:
                    self._close(path)

    def handle(self, key: selectors.SelectorKey, events: int, now: float) -> None:
        kind, path = key.data
        sock = key.fileobj
        assert isinstance(sock, socket.socket)
        if kind == "listener":
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.setblocking(False)
            self.selector.register(conn, selectors.EVENT_READ, ("answer", None))
        elif kind == "answer":
            self._answer(sock)
        else:
            self._on_path(path, sock, events, now)

    def _answer(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(4096)
            if data:
                sock.send(data)
                return
        except OSError:
            pass
        self.selector.unregister(sock)
        sock.close()

    def _on_path(self, path: Path_, sock: socket.socket, events: int, now: float) -> None:
        if not path.connected and events & selectors.EVENT_WRITE:
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                self._close(path)
                return
            path.connected, path.started, path.last_answer = True, now, now
            self.selector.modify(sock, selectors.EVENT_READ, ("path", path))
        if events & selectors.EVENT_READ:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                self._close(path)
            else:
                path.last_answer = now

    def status(self, now: float) -> dict[str, object]:
        return {
            "node": self.node,
            "written": time.time(),
            "paths": {name: path.up(now) for name, path in sorted(self.paths.items())},
        }

    def _files_changed(self) -> bool:
        """Whether a resource file came, went or changed since the last scan (a `drbdadm up`
        follows the file's writing at once: waiting for RESCAN would delay the connection)."""
        try:
            signature = tuple((e.name, e.stat().st_mtime_ns) for e in sorted(self.conf_dir.glob("*.res")))
        except OSError:
            return True
        changed = signature != self.signature
        self.signature = signature
        return changed

    def run_once(self) -> None:
        now = time.monotonic()
        if self._files_changed() or now - self.last_scan >= RESCAN:
            self.rescan(now)
        self.tend(now)
        for key, events in self.selector.select(TICK):
            self.handle(key, events, time.monotonic())
        now = time.monotonic()
        if now - self.last_status >= TICK:
            self.last_status = now
            publish(self.status_path, json.dumps(self.status(now)) + "\n")


def publish(path: Path, text: str) -> None:
    """Replace `path` whole, without fsync: ten times a second, and a reader of a file lost in
    a crash sees the node as off, which it then is."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def is_replication(pid: int, lab_id: str) -> bool:
    """Whether PID is (still) a replication process of lab `lab_id`, by its command line."""
    try:
        args = [
            a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a
        ]
    except OSError:
        return False
    return len(args) >= 3 and args[-3] == MODULE and Path(args[-2]).name == lab_id


def gone(pid: int, lab_id: str) -> bool:
    return not is_replication(pid, lab_id)


def find_processes(lab_id: str) -> list[int]:
    """The replication processes of lab `lab_id`: `down` kills them also when the namespace they
    ran in was deleted under them (they would otherwise write into the directory being removed)."""
    return sorted(
        int(e.name)
        for e in Path("/proc").iterdir()
        if e.name.isdigit() and is_replication(int(e.name), lab_id)
    )


def find_node_processes(lab_id: str) -> dict[str, list[int]]:
    """The replication processes of lab `lab_id`, by node (the last word of their command line)."""
    found: dict[str, list[int]] = {}
    for pid in find_processes(lab_id):
        try:
            args = [a for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue  # it ended meanwhile
        found.setdefault(args[-1].decode(errors="replace"), []).append(pid)
    return found


def status_file(lab_dir: Path, node: str) -> Path:
    return lab_dir / node / STATUS_FILE


def read_paths(path: Path, now: float) -> dict[str, bool]:
    """What one node measured; nothing when it is missing, unreadable or stale (the node is off)."""
    try:
        data = json.loads(path.read_text())
        if now - float(data["written"]) > STALE:
            return {}
        return {str(name): bool(up) for name, up in dict(data["paths"]).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def measured_paths(lab_dir: Path, nodes: list[str]) -> dict[str, bool] | None:
    """Per resource, whether both nodes measure its path up; None for a lab without the
    measuring processes (made before them), where the links alone decide."""
    files = [status_file(lab_dir, node) for node in nodes]
    if not any(f.exists() for f in files):
        return None
    now = time.time()
    seen = [read_paths(f, now) for f in files]
    names = set().union(*seen)
    return {name: all(s.get(name, False) for s in seen) for name in sorted(names)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    lab_dir, node = Path(argv[0]), argv[1]
    if not become_daemon():
        return 0
    replication = Replication(node=node, status_path=status_file(lab_dir, node))
    while True:
        replication.run_once()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

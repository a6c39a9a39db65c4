"""The lab's stand-in service: one connection of the stand-in server, checked and answered.

The server process (`standin_server`) accepts; each connection is served here in a thread of its
own (a `shutdown -w` may wait for minutes while other calls go on):
- the request is read (`standin_client`'s format: node, directory, program, arguments);
- the caller is identified by the socket (SO_PEERCRED), not by what it says: it must be root and
  run inside the node it names (the network and mount namespaces of that node's holder), or it is
  refused with exit 2 and a message: a guest started for a caller elsewhere would escape the lab,
  and the files read would be another node's;
- `standin.answer` answers; the reply is the tool's output and exit code, or a hang.
Threads share only the simulator, whose `simstate.transaction` takes an flock on a file that each
opens anew: an flock belongs to the open file description, so threads exclude each other as
processes do. The inventory is read for each call: `lab start` gives a node a new holder. What
does not change while the lab lives is read once (`ServiceContext`), and the nodes' LVM reports are
kept while their disks' metadata is the same (`lvmcache`). A bug fails its call, with the
traceback in `<lab>/standin.log`, not the server.
"""

import os
import select
import socket
import struct
import sys
import threading
import time
import traceback
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reconciler.lab import node as nodes
from reconciler.lab import standin
from reconciler.lab.errors import LabError
from reconciler.lab.inventory import Lab, load_inventory
from reconciler.lab.lvmcache import ReportCache
from reconciler.lab.realdrbdadm import CONF as DRBD_CONF
from reconciler.lab.sim.state import Cluster, locked
from reconciler.lab.simstate import sim_dir, transaction
from reconciler.lab.standin_client import CANNOT_RUN, USAGE_ERROR, encode_reply
from reconciler.lab.standin_server import LOG_NAME

DRBD_CONF_NAME = "standin-drbd.conf"
RECEIVE_TIMEOUT = 10.0  # a request is a few hundred bytes, sent at once
KERNEL_FILES_EVERY = 0.5  # seconds between two refreshes of a DRBD 8 lab's kernel files
_MAX_REQUEST = 1 << 20
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True)
class ServiceContext:
    """What every call of the lab shares: read once when the server starts."""

    lab_dir: Path
    drbd_versions: dict[str, str]  # per node; fixed by the manifests at `lab up`
    drbd_conf: Path
    lvm_reports: ReportCache

    @classmethod
    def load(cls, lab_dir: Path) -> "ServiceContext":
        with locked(sim_dir(lab_dir)):
            cluster = Cluster.load(sim_dir(lab_dir))
        conf = lab_dir / DRBD_CONF_NAME
        conf.write_text(DRBD_CONF)
        versions = {node.name: node.drbd.version for node in cluster.nodes}
        return cls(lab_dir=lab_dir, drbd_versions=versions, drbd_conf=conf, lvm_reports=ReportCache())


def _same_namespaces(pid: int, holder: int) -> bool:
    try:
        for kind in ("net", "mnt"):
            mine, theirs = os.stat(f"/proc/{pid}/ns/{kind}"), os.stat(f"/proc/{holder}/ns/{kind}")
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
                return False
    except OSError:
        return False  # either has ended
    return True


def _caller_gone(conn: socket.socket, seconds: float) -> bool:
    """Wait up to `seconds` for the caller's end of the socket to close; whether it has.
    Registered for no event: POLLHUP (both directions shut, the caller's socket closed) is
    reported anyway, while the end of its request (a readable EOF) is not."""
    poller = select.poll()
    poller.register(conn, 0)
    return bool(poller.poll(int(seconds * 1000)))


def identify(context: ServiceContext, conn: socket.socket, request: list[str]) -> standin.StandinCall:
    """The call of the process at the other end of `conn`, once checked that it runs as root
    inside the node it names; LabError otherwise."""
    pid, uid, _ = _PEERCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    node, cwd, *argv = request
    if uid != 0:
        raise LabError("the lab's stand-ins are root's alone")
    lab = Lab(root=context.lab_dir.parent, inventory=load_inventory(context.lab_dir))
    record = lab.inventory.record(node)
    if record is None or record.holder_pid is None:
        raise LabError(f"no node {node} in the lab at {context.lab_dir}")
    holder = record.holder_pid
    if not (nodes.holder_alive(holder, lab.id, node) and _same_namespaces(pid, holder)):
        raise LabError(f"this does not run inside node {node}: use `reconciler lab exec {node} -- ...`")
    return standin.StandinCall(
        lab=lab,
        node=node,
        holder=holder,
        argv=tuple(argv),
        cwd=cwd,
        drbd_version=context.drbd_versions.get(node, ""),
        drbd_conf=context.drbd_conf,
        lvm_reports=context.lvm_reports,
        caller_gone=partial(_caller_gone, conn),
    )


def _receive(conn: socket.socket) -> list[str]:
    """The request: node, directory, program and arguments, NUL-separated, up to the caller's EOF."""
    conn.settimeout(RECEIVE_TIMEOUT)
    chunks, size = [], 0
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_REQUEST:
            raise LabError(f"a request of more than {_MAX_REQUEST} bytes")
    conn.settimeout(None)
    fields = [os.fsdecode(f) for f in b"".join(chunks).split(b"\0")]
    if len(fields) < 3 or not fields[2]:
        raise LabError("a request without a node, a directory and a program")
    return fields


def _encoded(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")  # the bytes of an argument, as they came
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _reply(context: ServiceContext, conn: socket.socket) -> bytes:
    request: list[str] = []
    try:
        request = _receive(conn)
        reply = standin.reply_of(standin.answer(identify(context, conn, request)))
    except (LabError, OSError) as err:  # refused, or the node's lvm2 failed: as a stand-in said it
        program = request[2] if len(request) > 2 else "?"
        reply = standin.StandinReply("", f"lab stand-in {program}: {err}\n", USAGE_ERROR)
    return encode_reply(reply.hang, reply.code, _encoded(reply.stdout), _encoded(reply.stderr))


def _serve_one(context: ServiceContext, conn: socket.socket) -> None:
    with conn:
        try:
            reply = _reply(context, conn)
        except Exception:  # a bug must fail this call, not the server and every later call
            traceback.print_exc()
            sys.stderr.flush()
            message = f"lab stand-in: the server failed (see {context.lab_dir / LOG_NAME})\n"
            reply = encode_reply(False, CANNOT_RUN, b"", message.encode())
        with suppress(OSError):  # the caller is gone (its timeout): nobody to tell
            conn.sendall(reply)


def _keep_kernel_files(lab_dir: Path) -> None:
    """Bring the simulator up to now every `KERNEL_FILES_EVERY` seconds, and with it the nodes'
    kernel files: the observer reads a DRBD 8 node's /proc/drbd directly (9's state comes from a
    stand-in, `drbdsetup status`), and a real kernel's is current whenever it is read."""
    while True:
        time.sleep(KERNEL_FILES_EVERY)
        try:
            with transaction(lab_dir):
                pass
        except Exception:  # as a call's bug: logged, and the next round tries again
            traceback.print_exc()
            sys.stderr.flush()


def serve_forever(listener: socket.socket, lab_dir: Path) -> None:
    """Answer the calls to `listener` until killed."""
    context = ServiceContext.load(lab_dir)
    if any(not version.startswith("9") for version in context.drbd_versions.values()):
        threading.Thread(target=_keep_kernel_files, args=(lab_dir,), daemon=True, name="kernel-files").start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(context, conn), daemon=True).start()

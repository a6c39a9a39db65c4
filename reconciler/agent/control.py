"""The agent's control socket: operator commands to the agent of this node, root only.

One request per connection, one JSON object each way, at most MAX_MESSAGE bytes: the operator
commands (`status`, `move`, `stop`, `start`, `maintenance`, `explain`) are small and rare, and
a connection that cannot finish within TIMEOUT is dropped, so no client can hold the agent.

Root only, twice: the socket is made mode 0600 inside a directory of mode 0700 that the agent
creates (a stale socket is replaced, never a file of another kind), and each connection's peer
is checked with SO_PEERCRED to be uid 0 before its request is read.
"""

import contextlib
import json
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_SOCKET = Path("/run/reconciler/agent.sock")
SOCKET_ENV = "RECONCILER_AGENT_SOCKET"
MAX_MESSAGE = 1 << 20
TIMEOUT = 10.0
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


class ControlError(Exception):
    """The agent cannot be reached, or refused the request."""


class Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str = Field(pattern=r"^(status|placement|move|stop|start|maintenance|explain)$")
    app: str | None = None
    node: str | None = None
    on: bool | None = None


class Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    error: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


Handler = Callable[[Request], Response]


def socket_path() -> Path:
    return Path(os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET)


def _prepare(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(found.st_mode):
        raise ControlError(f"{path} exists and is not a socket: not replacing it")
    path.unlink()  # left by an agent that died: nothing listens on it any more


def _peer_uid(conn: socket.socket) -> int:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    return int(_CREDENTIALS.unpack(raw)[1])


def _receive(conn: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := conn.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise ControlError(f"message over {MAX_MESSAGE} bytes")
    return b"".join(chunks)


class ControlServer:
    """Serves requests on a Unix socket in a thread of its own until `close`."""

    def __init__(
        self,
        path: Path,
        handler: Handler,
        thread: Callable[[str, Callable[[], None]], threading.Thread] | None = None,
    ) -> None:
        self.path = path
        self._handler = handler
        _prepare(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: no moment where others could connect
        try:
            self._sock.bind(str(path))
        finally:
            os.umask(old)
        self._sock.listen(8)
        make = thread or (lambda name, target: threading.Thread(target=target, name=name, daemon=True))
        self._thread = make("control", self._serve)
        self._closed = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(TIMEOUT)
                try:
                    self._answer(conn)
                except (OSError, ControlError):
                    continue  # that client's problem; the next one is served

    def _answer(self, conn: socket.socket) -> None:
        if _peer_uid(conn) != 0:
            conn.sendall(Response(ok=False, error="root only").model_dump_json().encode())
            return
        try:
            request = Request.model_validate_json(_receive(conn))
        except ValidationError as err:
            response = Response(ok=False, error=f"bad request: {err.errors()[0]['msg']}")
        else:
            response = self._handler(request)
        conn.sendall(response.model_dump_json().encode())

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def call(request: Request, path: Path | None = None, timeout: float = TIMEOUT) -> Response:
    """Send one request to the agent at `path`; its response."""
    where = path or socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(where))
            sock.sendall(request.model_dump_json().encode())
            sock.shutdown(socket.SHUT_WR)
            raw = _receive(sock)
        except FileNotFoundError:
            raise ControlError(f"no agent listens on {where} (is `reconciler agent` running?)") from None
        except PermissionError:
            raise ControlError(f"{where}: permission denied (the agent's socket is root only)") from None
        except OSError as err:
            raise ControlError(f"{where}: {err.strerror or err}") from err
    try:
        return Response.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as err:
        raise ControlError(f"{where}: not an agent's answer ({err})") from err

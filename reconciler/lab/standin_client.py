"""A lab stand-in as the node runs it: a thin client of the lab's stand-in server.

Every wrapper in the lab's bin/ (`drbdadm`, `xm`, `mount`, ...) execs `python -I -S
standin_client.py PROGRAM ARGS...`. The simulator's answer needs the reconciler's models, whose
imports alone cost ~0.3 s; a failover runs ~10 stand-ins and must take ~0.5 s. So the answer
comes from one server per lab (`standin_server`, on the host, with everything imported once),
and this script only passes the call on and prints the reply: it imports nothing but the
standard library's C modules (no site, no reconciler), and starts in ~10 ms.

The request is the node (RECONCILER_LAB_NODE), the working directory, the program and its
arguments, as NUL-separated bytes (none of them can hold a NUL: they are exact, whatever their
encoding); the server learns who asks from the socket itself (SO_PEERCRED) and refuses a caller
that does not run inside that node. The reply is one header line `exit|hang CODE OUT ERR`, then
OUT bytes of stdout and ERR bytes of stderr: printed as they are, then the exit code; for `hang`
(an injected hang) the client sleeps until its caller's timeout kills it, as the tool would hang.

The server imports this module for the shared names and the socket's address.
"""

import _socket  # the C module: socket.py's enums cost ~10 ms of start-up, and we need none
import os
import sys
import time

SOCKET_NAME = "standin.sock"  # in the lab's directory
SIM_ENV = "RECONCILER_LAB_SIM"  # <lab>/sim: the lab's directory is its parent
NODE_ENV = "RECONCILER_LAB_NODE"
HANG = b"hang"
EXIT = b"exit"
CANNOT_RUN = 126  # as a shell reports a program it cannot execute
USAGE_ERROR = 2
NOT_RUNNING = "the lab's stand-in server is not running: `lab down` and `lab up`"
# sun_path holds 108 bytes: a longer socket path is reached through a descriptor of its directory.
_MAX_PATH = 100
_CHUNK = 1 << 16


def socket_address(path: str) -> tuple[str, int | None]:
    """What to bind or connect to for the socket at `path`, and the descriptor to close after."""
    if len(os.fsencode(path)) <= _MAX_PATH:
        return path, None
    directory = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    return f"/proc/self/fd/{directory}/{os.path.basename(path)}", directory


def encode_request(node: str, cwd: str, argv: list[str]) -> bytes:
    return b"\0".join(os.fsencode(field) for field in (node, cwd, *argv))


def encode_reply(hang: bool, code: int, stdout: bytes, stderr: bytes) -> bytes:
    header = b"%s %d %d %d\n" % (HANG if hang else EXIT, code, len(stdout), len(stderr))
    return header + stdout + stderr


def _exchange(path: str, request: bytes) -> bytes:
    address, directory = socket_address(path)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(address)
        sock.sendall(request)
        sock.shutdown(_socket.SHUT_WR)  # the end of the request
        chunks = []
        while chunk := sock.recv(_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()
        if directory is not None:
            os.close(directory)


def _decode_reply(reply: bytes) -> tuple[bool, int, bytes, bytes] | None:
    header, _, body = reply.partition(b"\n")
    fields = header.split()
    if len(fields) != 4 or fields[0] not in (HANG, EXIT) or not all(f.isdigit() for f in fields[1:]):
        return None
    code, out, err = (int(f) for f in fields[1:])
    if len(body) != out + err:
        return None
    return fields[0] == HANG, code, body[:out], body[out:]


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "/"  # removed under us: the caller runs nowhere in particular


def _fail(program: str, message: str, code: int) -> int:
    sys.stderr.write(f"lab stand-in {program}: {message}\n")
    return code


def main(argv: list[str]) -> int:
    if not argv or not argv[0]:
        return _fail(
            "?", "usage: standin_client.py PROGRAM [ARG...] (run by the wrappers in bin/)", USAGE_ERROR
        )
    program = argv[0]
    sim, node = os.environ.get(SIM_ENV), os.environ.get(NODE_ENV)
    if not sim or not node:
        advice = "run it with `reconciler lab exec NODE -- ...`"
        return _fail(program, f"{SIM_ENV} and {NODE_ENV} are not set: {advice}", USAGE_ERROR)
    path = os.path.join(os.path.dirname(sim.rstrip("/")), SOCKET_NAME)
    try:
        reply = _exchange(path, encode_request(node, _cwd(), argv))
    except (FileNotFoundError, ConnectionRefusedError):
        return _fail(program, NOT_RUNNING, CANNOT_RUN)
    except OSError as err:
        return _fail(program, f"cannot reach the lab's stand-in server at {path}: {err}", CANNOT_RUN)
    decoded = _decode_reply(reply)
    if decoded is None:
        return _fail(
            program, "the lab's stand-in server ended without an answer (see its standin.log)", CANNOT_RUN
        )
    hang, code, stdout, stderr = decoded
    for stream, data in ((sys.stdout.buffer, stdout), (sys.stderr.buffer, stderr)):
        stream.write(data)
        stream.flush()
    while hang:  # an injected hang: until the caller's timeout kills us
        time.sleep(3600)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

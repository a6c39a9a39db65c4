"""The one-line answers of `drbdadm role`, `drbdadm cstate` and `drbdadm dstate`.

DRBD 8.4 answers for both sides, local first: `Primary/Secondary`, `UpToDate/UpToDate`.
DRBD 9 `role` prints only the local role; `dstate` prints the local disk state followed by one
`/peer` state per peer device; `cstate` prints one line per connection.
"""

from reconciler.observe.drbd.states import ConnectionState, DiskState, Issues, Role
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised


class DrbdadmRole(Fact):
    role: Role
    peer_role: Role | None = None
    unrecognised: tuple[Unrecognised, ...] = ()


class DrbdadmCState(Fact):
    connection_states: tuple[ConnectionState, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


class DiskStates(Fact):
    disk_state: DiskState
    peer_disk_states: tuple[DiskState, ...] = ()


class DrbdadmDState(Fact):
    """One entry per volume (per output line)."""

    volumes: tuple[DiskStates, ...] = ()
    unrecognised: tuple[Unrecognised, ...] = ()


def _lines(text: str, kind: str) -> list[tuple[int, str]]:
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for number, line in lines:
        if " " in line or line.startswith("/") or line.endswith("/") or "//" in line:
            raise ParseError(kind, "expected a state or states separated by '/'", line=number, text=line)
    return lines


def parse_drbdadm_role(text: str) -> DrbdadmRole:
    kind = "drbdadm-role"
    lines = _lines(text, kind)
    if len(lines) != 1:
        raise ParseError(kind, f"expected one line, got {len(lines)}")
    number, line = lines[0]
    parts = line.split("/")
    if len(parts) > 2:
        raise ParseError(kind, "expected 'Role' or 'Role/PeerRole'", line=number, text=line)
    issues = Issues()
    role = issues.state(Role, parts[0], line=number, field="role")
    peer = issues.state(Role, parts[1], line=number, field="peer-role") if len(parts) == 2 else None
    return DrbdadmRole(role=role, peer_role=peer, unrecognised=issues.found())


def parse_drbdadm_cstate(text: str) -> DrbdadmCState:
    kind = "drbdadm-cstate"
    issues = Issues()
    states = []
    for number, line in _lines(text, kind):
        if "/" in line:
            raise ParseError(kind, "expected one connection state", line=number, text=line)
        states.append(issues.state(ConnectionState, line, line=number, field="cstate"))
    return DrbdadmCState(connection_states=tuple(states), unrecognised=issues.found())


def parse_drbdadm_dstate(text: str) -> DrbdadmDState:
    issues = Issues()
    volumes = []
    for number, line in _lines(text, "drbdadm-dstate"):
        local, *peers = line.split("/")
        volumes.append(
            DiskStates(
                disk_state=issues.state(DiskState, local, line=number, field="disk"),
                peer_disk_states=tuple(
                    issues.state(DiskState, p, line=number, field="peer-disk") for p in peers
                ),
            )
        )
    return DrbdadmDState(volumes=tuple(volumes), unrecognised=issues.found())


KINDS = {
    "drbdadm-role": parse_drbdadm_role,
    "drbdadm-cstate": parse_drbdadm_cstate,
    "drbdadm-dstate": parse_drbdadm_dstate,
}

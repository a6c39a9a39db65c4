"""libvirt's `virsh list --all` and `virsh domstate`, in the C locale.

virsh prints the state as words, two of them for some states ("shut off", "in shutdown"),
in a table whose layout changed: older virsh printed fixed-width columns (" %-5s %-30s %s"),
current virsh pads each column to its widest cell. Both put the state last, so a row is read
from its ends: the ID first, a known state phrase last, the name in between.
"""

from collections.abc import Callable
from enum import StrEnum

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised

_LIST = "virsh-list"
_DOMSTATE = "virsh-domstate"


class VirshState(StrEnum):
    """virshDomainStateToString in tools/virsh-domain-monitor.c."""

    NO_STATE = "no state"
    RUNNING = "running"
    IDLE = "idle"
    PAUSED = "paused"
    IN_SHUTDOWN = "in shutdown"
    SHUT_OFF = "shut off"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    UNRECOGNISED = "?"


_KNOWN = tuple(s for s in VirshState if s is not VirshState.UNRECOGNISED)


class VirshDomain(Fact):
    """A row of `virsh list --all`; `id` is None for an inactive domain (shown as "-")."""

    id: int | None
    name: str
    state: VirshState
    raw_state: str


class VirshDomainList(Fact):
    domains: tuple[VirshDomain, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


class VirshDomState(Fact):
    """`virsh domstate [--reason]`: the state, and the reason when asked for."""

    state: VirshState
    raw_state: str
    reason: str | None
    unrecognised: tuple[Unrecognised, ...] = ()


def _split_row(line: str, number: int, state_column: int) -> tuple[str, str, str]:
    """(id, name, state) of one row."""
    id_text, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    for state in _KNOWN:
        if rest.endswith(" " + state.value):
            return id_text, rest.removesuffix(state.value).strip(), state.value
    # An unknown state may have spaces too: take it from where the header puts the column.
    if len(line) <= state_column or line[state_column - 1] != " ":
        raise ParseError(_LIST, "cannot find the State column in this row", line=number, text=line)
    name = line[:state_column].strip().partition(" ")[2].strip()
    return id_text, name, line[state_column:].strip()


def parse_virsh_list(text: str) -> VirshDomainList:
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return VirshDomainList(domains=())
    header = lines[first]
    if header.split() != ["Id", "Name", "State"]:
        raise ParseError(_LIST, "not the `virsh list` header", line=first + 1, text=header)
    rule = first + 1
    if rule >= len(lines) or not lines[rule].strip() or set(lines[rule].strip()) != {"-"}:
        raise ParseError(
            _LIST,
            "the header is not followed by its dashed rule",
            line=rule + 1,
            text=lines[rule] if rule < len(lines) else None,
        )
    domains: list[VirshDomain] = []
    unrecognised: list[Unrecognised] = []
    for number, line in enumerate(lines[rule + 1 :], start=rule + 2):
        if not line.strip():
            continue
        id_text, name, raw_state = _split_row(line, number, header.index("State"))
        if not name or not (id_text == "-" or id_text.isdigit()):
            raise ParseError(_LIST, "expected an ID (or -), a name and a state", line=number, text=line)
        state = _state(raw_state, number, unrecognised)
        domains.append(
            VirshDomain(
                id=None if id_text == "-" else int(id_text), name=name, state=state, raw_state=raw_state
            )
        )
    return VirshDomainList(domains=tuple(domains), unrecognised=tuple(unrecognised))


def _state(raw: str, line: int, unrecognised: list[Unrecognised]) -> VirshState:
    if raw in _KNOWN:
        return VirshState(raw)
    unrecognised.append(Unrecognised(line=line, field="state", value=raw))
    return VirshState.UNRECOGNISED


def parse_virsh_domstate(text: str) -> VirshDomState:
    """One line: `running`, or `shut off (destroyed)` with --reason; virsh adds a blank line."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) != 1:
        where = lines[1] if len(lines) > 1 else (None, None)
        raise ParseError(_DOMSTATE, "expected exactly one state line", line=where[0], text=where[1])
    number, line = lines[0]
    raw, reason = line.strip(), None
    if raw.endswith(")") and " (" in raw:
        raw, _, reason = raw[:-1].partition(" (")
    unrecognised: list[Unrecognised] = []
    state = _state(raw, number, unrecognised)
    return VirshDomState(state=state, raw_state=raw, reason=reason, unrecognised=tuple(unrecognised))


KINDS: dict[str, Callable[[str], Fact]] = {
    _LIST: parse_virsh_list,
    _DOMSTATE: parse_virsh_domstate,
}

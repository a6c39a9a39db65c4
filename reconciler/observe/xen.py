"""Xen domain lists: the `xm list` / `xl list` tables, xend S-expressions and `xl list -l` JSON.

The tables and the S-expressions show the six-letter state of each domain (`r-----`); the JSON
of current xl carries the configuration only (libxl leaves the state out), so its `state` is None.
"""

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact, Unrecognised
from reconciler.observe.sxp import Atom, SList, read_sxp

MIB = 1024 * 1024
KIB = 1024
_FLAG_LETTERS = "rbpscd"


class DomainStateFlag(StrEnum):
    """One letter of the state column; each has a fixed position in `rbpscd`."""

    RUNNING = "r"
    BLOCKED = "b"
    PAUSED = "p"
    SHUTDOWN = "s"
    CRASHED = "c"
    DYING = "d"
    UNRECOGNISED = "?"


class XenDomain(Fact):
    """A row of `xm list` / `xl list`. `id` is None for a domain xend knows but does not run."""

    name: str
    id: int | None
    memory: int
    vcpus: int
    state: tuple[DomainStateFlag, ...]
    raw_state: str
    cpu_time: float
    is_dom0: bool


class DomainList(Fact):
    domains: tuple[XenDomain, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


class Vif(Fact):
    mac: str | None
    bridge: str | None
    script: str | None


class Vbd(Fact):
    """A virtual block device. `uname` is the backing path as the tool shows it (with any
    `phy:`/`file:`/`tap:aio:` prefix); `mode` is `w` or `r` (xend also knows `w!`)."""

    uname: str
    dev: str
    devtype: str | None
    mode: str


class DomainDetail(Fact):
    """One domain of a long listing; what the listing does not show is None."""

    name: str
    id: int | None
    uuid: str | None
    memory: int | None
    maxmem: int | None
    vcpus: int | None
    state: tuple[DomainStateFlag, ...] | None
    raw_state: str | None
    cpu_time: float | None
    is_dom0: bool
    vifs: tuple[Vif, ...]
    vbds: tuple[Vbd, ...]


class DomainDetails(Fact):
    domains: tuple[DomainDetail, ...]
    unrecognised: tuple[Unrecognised, ...] = ()


def decode_state(
    raw: str, line: int, field: str, unrecognised: list[Unrecognised]
) -> tuple[DomainStateFlag, ...]:
    """The flags set in `raw`; a letter out of its place, or a column of another width, is
    kept as UNRECOGNISED (once) and reported, never guessed at."""
    flags: list[DomainStateFlag] = []
    known = len(raw) == len(_FLAG_LETTERS)
    for position, letter in enumerate(raw):
        if letter == "-":
            continue
        if known and letter == _FLAG_LETTERS[position]:
            flags.append(DomainStateFlag(letter))
        else:
            known = False
    if not known:
        unrecognised.append(Unrecognised(line=line, field=field, value=raw))
        flags.append(DomainStateFlag.UNRECOGNISED)
    return tuple(flags)


# --- the tables ---------------------------------------------------------------------------

_XL_HEADER = ("Name", "ID", "Mem", "VCPUs", "State", "Time(s)")
# Early xm printed "Mem(MiB)" (the xm.pod.1 example); later xm prints xl's header (Xen 4.0.1).
_XM_HEADERS = (_XL_HEADER, ("Name", "ID", "Mem(MiB)", "VCPUs", "State", "Time(s)"))


def _parse_table(kind: str, text: str, headers: tuple[tuple[str, ...], ...], id_required: bool) -> DomainList:
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return DomainList(domains=())
    if tuple(lines[first].split()) not in headers:
        raise ParseError(kind, "not the domain table header", line=first + 1, text=lines[first])
    unrecognised: list[Unrecognised] = []
    domains = [
        _parse_row(kind, number, line, id_required, unrecognised)
        for number, line in enumerate(lines[first + 1 :], start=first + 2)
        if line.strip()
    ]
    return DomainList(domains=tuple(domains), unrecognised=tuple(unrecognised))


def _parse_row(
    kind: str, number: int, line: str, id_required: bool, unrecognised: list[Unrecognised]
) -> XenDomain:
    # Split from the right: the numeric columns never hold spaces, a name might.
    body = line.rstrip()
    before, _, last = body.rpartition(" ")
    if last.startswith("s:") and "/p:" in last:
        body = before.rstrip()  # xm 3.0 appends the security references " s:xxxx/p:xxxx"
    columns = body.rsplit(None, 4)
    if len(columns) < 5:
        raise ParseError(kind, "a domain row needs at least five columns", line=number, text=line)
    rest, mem, vcpus, raw_state, cpu_time = columns
    # A last word of digits is the ID. The one ambiguity left is an xm row without an ID
    # whose name ends in a word of digits ("web 2"): it reads as name "web", ID 2.
    words = rest.rsplit(None, 1)
    name, domid_text = (words[0], words[1]) if len(words) == 2 and words[1].isdigit() else (rest, "")
    if id_required and not domid_text:
        raise ParseError(kind, "no domain ID in this row", line=number, text=line)
    try:
        memory, vcpu_count, seconds = int(mem) * MIB, int(vcpus), float(cpu_time)
    except ValueError:
        raise ParseError(kind, "Mem, VCPUs or Time(s) is not a number", line=number, text=line) from None
    domid = int(domid_text) if domid_text else None
    return XenDomain(
        name=name.strip(),
        id=domid,
        memory=memory,
        vcpus=vcpu_count,
        state=decode_state(raw_state, number, "state", unrecognised),
        raw_state=raw_state,
        cpu_time=seconds,
        is_dom0=domid == 0,
    )


def parse_xm_list(text: str) -> DomainList:
    """`xm list` (Xen 3.x/4.x xend): a domain that xend manages but does not run has no ID."""
    return _parse_table("xm-list", text, _XM_HEADERS, id_required=False)


def parse_xl_list(text: str) -> DomainList:
    """`xl list`: only running (or dying) domains, so every row has an ID."""
    return _parse_table("xl-list", text, (_XL_HEADER,), id_required=True)


# --- xend S-expressions -------------------------------------------------------------------

_SXP = "xen-sxp"
_SXP_DISKS = ("vbd", "tap", "tap2")


def _sxp_error(form: SList | Atom, message: str) -> ParseError:
    return ParseError(_SXP, message, line=form.line)


def _sxp_int(domain: SList, name: str) -> int | None:
    atom = domain.value(name)
    if atom is None:
        return None
    try:
        return int(atom.text)
    except ValueError:
        raise _sxp_error(atom, f"({name} ...) is not an integer: {atom.text!r}") from None


def _sxp_float(domain: SList, name: str) -> float | None:
    atom = domain.value(name)
    if atom is None:
        return None
    try:
        return float(atom.text)
    except ValueError:
        raise _sxp_error(atom, f"({name} ...) is not a number: {atom.text!r}") from None


def _sxp_text(form: SList, name: str) -> str | None:
    atom = form.value(name)
    return atom.text if atom is not None else None


def _sxp_devices(domain: SList) -> tuple[tuple[Vif, ...], tuple[Vbd, ...]]:
    vifs: list[Vif] = []
    vbds: list[Vbd] = []
    for device in domain.children("device"):
        for spec in device.args:
            if not isinstance(spec, SList):
                continue
            if spec.head == "vif":
                vifs.append(
                    Vif(
                        mac=_sxp_text(spec, "mac"),
                        bridge=_sxp_text(spec, "bridge"),
                        script=_sxp_text(spec, "script"),
                    )
                )
            elif spec.head in _SXP_DISKS:
                vbds.append(_sxp_vbd(spec))
    return tuple(vifs), tuple(vbds)


def _sxp_vbd(spec: SList) -> Vbd:
    dev = _sxp_text(spec, "dev")
    if dev is None:
        raise _sxp_error(spec, f"({spec.head} ...) without (dev ...)")
    # xend writes the device type after the name: "hdc:cdrom", "sda:disk".
    name, _, devtype = dev.partition(":")
    return Vbd(
        uname=_sxp_text(spec, "uname") or "",
        dev=name,
        devtype=devtype or None,
        mode=_sxp_text(spec, "mode") or "w",
    )


def _sxp_domain(domain: SList, unrecognised: list[Unrecognised]) -> DomainDetail:
    name = _sxp_text(domain, "name")
    if name is None:
        raise _sxp_error(domain, "(domain ...) without (name ...)")
    domid = _sxp_int(domain, "domid")
    memory, maxmem = _sxp_int(domain, "memory"), _sxp_int(domain, "maxmem")
    state_atom = domain.value("state")
    vifs, vbds = _sxp_devices(domain)
    return DomainDetail(
        name=name,
        id=domid,
        uuid=_sxp_text(domain, "uuid"),
        memory=memory * MIB if memory is not None else None,
        maxmem=maxmem * MIB if maxmem is not None else None,
        vcpus=_sxp_int(domain, "vcpus"),
        state=(
            decode_state(state_atom.text, state_atom.line, "state", unrecognised)
            if state_atom is not None
            else None
        ),
        raw_state=state_atom.text if state_atom is not None else None,
        cpu_time=_sxp_float(domain, "cpu_time"),
        is_dom0=domid == 0,
        vifs=vifs,
        vbds=vbds,
    )


def parse_xen_sxp(text: str) -> DomainDetails:
    """`xm list --long` (and `xl list -l` of Xen 4.0/4.1): one `(domain ...)` per domain."""
    unrecognised: list[Unrecognised] = []
    domains: list[DomainDetail] = []
    for form in read_sxp(text, _SXP):
        if not isinstance(form, SList) or form.head != "domain":
            raise _sxp_error(form, "expected a (domain ...) form at the top level")
        domains.append(_sxp_domain(form, unrecognised))
    return DomainDetails(domains=tuple(domains), unrecognised=tuple(unrecognised))


# --- xl list -l JSON ----------------------------------------------------------------------

_JSON = "xl-list-json"


def _json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(_JSON, f"{where} is not a JSON object")
    return value


def _json_int(section: dict[str, Any], key: str, where: str) -> int | None:
    value = section.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(_JSON, f"{where}.{key} is not an integer: {value!r}")
    return value


def _json_str(section: dict[str, Any], key: str, where: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ParseError(_JSON, f"{where}.{key} is not a string: {value!r}")
    return value


def _json_array(config: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = config.get(key) or []
    if not isinstance(items, list):
        raise ParseError(_JSON, f"{where}.{key} is not a JSON array")
    return [_json_object(item, f"{where}.{key}[{i}]") for i, item in enumerate(items)]


def _json_vif(nic: dict[str, Any], where: str) -> Vif:
    return Vif(
        mac=_json_str(nic, "mac", where),
        bridge=_json_str(nic, "bridge", where),
        script=_json_str(nic, "script", where),
    )


def _json_vbd(disk: dict[str, Any], where: str) -> Vbd:
    # libxl leaves out every field at its default: no readwrite means 0, no is_cdrom means 0.
    return Vbd(
        uname=_json_str(disk, "pdev_path", where) or "",
        dev=_json_str(disk, "vdev", where) or "",
        devtype="cdrom" if _json_int(disk, "is_cdrom", where) else "disk",
        mode="w" if _json_int(disk, "readwrite", where) else "r",
    )


def _json_domain(entry: Any, index: int) -> DomainDetail:
    where = f"[{index}]"
    entry = _json_object(entry, where)
    config = _json_object(entry.get("config"), f"{where}.config")
    c_info = _json_object(config.get("c_info"), f"{where}.config.c_info")
    b_info = _json_object(config.get("b_info", {}), f"{where}.config.b_info")
    name = c_info.get("name")
    if not isinstance(name, str):
        raise ParseError(_JSON, f"{where}.config.c_info.name is missing")
    domid = _json_int(entry, "domid", where)
    target, maximum = _json_int(b_info, "target_memkb", where), _json_int(b_info, "max_memkb", where)
    config_where = f"{where}.config"
    vifs = tuple(_json_vif(nic, config_where) for nic in _json_array(config, "nics", config_where))
    vbds = tuple(_json_vbd(disk, config_where) for disk in _json_array(config, "disks", config_where))
    return DomainDetail(
        name=name,
        id=domid,
        uuid=_json_str(c_info, "uuid", f"{where}.config.c_info"),
        memory=target * KIB if target is not None else None,
        maxmem=maximum * KIB if maximum is not None else None,
        vcpus=_json_int(b_info, "max_vcpus", where),
        state=None,
        raw_state=None,
        cpu_time=None,
        is_dom0=domid == 0,
        vifs=vifs,
        vbds=vbds,
    )


def parse_xl_list_json(text: str) -> DomainDetails:
    """`xl list -l` of Xen 4.2 and later: a JSON array of {"domid": N, "config": {...}}."""
    if not text.strip():
        return DomainDetails(domains=())
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        lines = text.splitlines()
        quoted = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else None
        raise ParseError(_JSON, error.msg, line=error.lineno, text=quoted) from None
    if not isinstance(document, list):
        raise ParseError(_JSON, "the top level is not a JSON array")
    return DomainDetails(domains=tuple(_json_domain(entry, i) for i, entry in enumerate(document)))


KINDS: dict[str, Callable[[str], Fact]] = {
    "xm-list": parse_xm_list,
    "xl-list": parse_xl_list,
    "xen-sxp": parse_xen_sxp,
    "xl-list-json": parse_xl_list_json,
}

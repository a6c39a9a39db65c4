"""The few facts of a DRBD resource file that the lab's `drbdadm` needs.

drbdadm reads /etc/drbd.conf, which includes /etc/drbd.d/*.res; the lab reads those files from
the node's files. Both syntaxes are understood (8.4: `on HOST { device; disk; address; }`,
9: the same with `node-id`, options at resource or volume level, `connection-mesh`). Only what
the stand-in acts on is extracted: the minor, the backing disk, this node's and the peer's
address and node-id, and the resync rate. Checking the whole syntax is drbdadm's job
(tests/render use the real one).
"""

import posixpath
import re
from dataclasses import dataclass

from reconciler.lab.sim.model import KIB

CONFIG_DIR = "/etc/drbd.d"
DEFAULT_RATE = 250 * KIB
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|#[^\n]*')
_DEVICE_MINOR = re.compile(r"/dev/drbd(\d+)")
_RATE = re.compile(r"(\d+)([kKmMgG]?)")
_RATE_UNITS = {"": KIB, "k": KIB, "m": KIB * KIB, "g": KIB * KIB * KIB}


class ConfError(Exception):
    """The files do not define the resource for this node (drbdadm exits 1), or cannot be read
    (exits 10)."""

    def __init__(self, message: str, exit_code: int = 10) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Statement:
    words: list[str]
    block: list["Statement"] | None = None

    def find(self, keyword: str) -> "Statement | None":
        return next((s for s in self.block or [] if s.words and s.words[0] == keyword), None)

    def all(self, keyword: str) -> list["Statement"]:
        return [s for s in self.block or [] if s.words and s.words[0] == keyword]


@dataclass(frozen=True)
class ResourceConf:
    name: str
    minor: int
    disk: str
    node_id: int
    address: str | None
    peer: str | None
    peer_node_id: int
    peer_address: str | None
    rate: int  # bytes/s
    port: int | None = None  # of this node's address
    peer_port: int | None = None


def _tokens(text: str) -> list[str]:
    code = _STRING_OR_COMMENT.sub(lambda m: m[0] if m[0].startswith('"') else "", text)
    return [t[1:-1] if t.startswith('"') else t for t in _TOKEN.findall(code)]


def _parse(tokens: list[str], pos: int, path: str) -> tuple[list[Statement], int]:
    statements: list[Statement] = []
    words: list[str] = []
    while pos < len(tokens):
        word = tokens[pos]
        pos += 1
        if word == ";":
            statements.append(Statement(words))
            words = []
        elif word == "{":
            block, pos = _parse(tokens, pos, path)
            statements.append(Statement(words, block))
            words = []
        elif word == "}":
            if words:
                raise ConfError(f"{path}: missing ';' after '{' '.join(words)}'")
            return statements, pos
        else:
            words.append(word)
    if words:
        raise ConfError(f"{path}: unexpected end of file after '{' '.join(words)}'")
    return statements, pos


def parse_file(path: str, text: str) -> list[Statement]:
    statements, _ = _parse(_tokens(text), 0, path)
    return statements


def resource_files(files: dict[str, str]) -> dict[str, str]:
    return {
        p: text
        for p, text in sorted(files.items())
        if posixpath.dirname(p) == CONFIG_DIR and p.endswith(".res")
    }


def _value(stmt: Statement | None, keyword: str) -> list[str]:
    found = stmt.find(keyword) if stmt is not None else None
    return found.words[1:] if found is not None else []


def _minor(words: list[str]) -> int | None:
    if "minor" in words:
        index = words.index("minor")
        return int(words[index + 1]) if index + 1 < len(words) else None
    for word in words:
        match = _DEVICE_MINOR.fullmatch(word)
        if match:
            return int(match[1])
    return None


def _address(words: list[str]) -> str | None:
    text = words[-1] if words else ""
    host = text.rsplit(":", 1)[0]
    return host.strip("[]") or None


def _port(words: list[str]) -> int | None:
    text = words[-1] if words else ""
    port = text.rsplit(":", 1)[1] if ":" in text else ""
    return int(port) if port.isdigit() else None


def parse_rate(text: str) -> int:
    match = _RATE.fullmatch(text)
    if match is None:
        raise ConfError(f"resync-rate {text!r} is not a rate")
    return int(match[1]) * _RATE_UNITS[match[2].lower()]


def _rate(res: Statement) -> int:
    for section, keyword in (
        ("disk", "resync-rate"),
        ("peer-device-options", "resync-rate"),
        ("syncer", "rate"),
    ):
        words = _value(res.find(section), keyword)
        if words:
            return parse_rate(words[0])
    return DEFAULT_RATE


def _host_field(res: Statement, host: Statement | None, keyword: str) -> list[str]:
    """A field of the `on HOST` section, of its `volume 0`, or else of the resource level."""
    for scope in (host, host.find("volume") if host else None, res, res.find("volume")):
        words = _value(scope, keyword)
        if words:
            return words
    return []


def _conf(res: Statement, node: str) -> ResourceConf:
    name = res.words[1]
    hosts = res.all("on")
    mine = next((h for h in hosts if node in h.words[1:]), None)
    if mine is None:
        raise ConfError(f"'{name}' not defined in your config (for this host).", 1)
    peer = next((h for h in hosts if h is not mine), None)
    minor = _minor(_host_field(res, mine, "device"))
    disk = _host_field(res, mine, "disk")
    if minor is None or not disk:
        raise ConfError(f"{name}: no device minor or no disk for {node}")
    node_ids = [int(_value(h, "node-id")[0]) if _value(h, "node-id") else i for i, h in enumerate(hosts)]
    peer_index = hosts.index(peer) if peer is not None else 1 - hosts.index(mine)
    return ResourceConf(
        name=name,
        minor=minor,
        disk=disk[0],
        node_id=node_ids[hosts.index(mine)],
        address=_address(_value(mine, "address")),
        peer=peer.words[1] if peer is not None else None,
        peer_node_id=node_ids[peer_index] if peer is not None else 1,
        peer_address=_address(_value(peer, "address")) if peer is not None else None,
        rate=_rate(res),
        port=_port(_value(mine, "address")),
        peer_port=_port(_value(peer, "address")) if peer is not None else None,
    )


def find_resource(files: dict[str, str], name: str, node: str) -> ResourceConf:
    """The resource `name` as `node` sees it, or ConfError with drbdadm's message."""
    for path, text in resource_files(files).items():
        for stmt in parse_file(path, text):
            if stmt.block is not None and stmt.words[:2] == ["resource", name]:
                return _conf(stmt, node)
    raise ConfError(f"'{name}' not defined in your config (for this host).", 1)


def node_resources(files: dict[str, str], node: str) -> list[ResourceConf]:
    """Every resource the files define for `node` (those that do not are left out)."""
    found = []
    for path, text in resource_files(files).items():
        for stmt in parse_file(path, text):
            if stmt.block is not None and len(stmt.words) >= 2 and stmt.words[0] == "resource":
                try:
                    found.append(_conf(stmt, node))
                except ConfError:
                    continue  # not this node's, or incomplete: drbdadm would refuse it too
    return found

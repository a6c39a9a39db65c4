"""`drbdsetup show [minor|resource]` of DRBD 8.4: the running configuration, in drbd.conf syntax.

    resource r0 {
        options { }
        net { cram-hmac-alg "md5"; after-sb-0pri discard-zero-changes; }
        _remote_host { address ipv4 192.0.2.2:11000; }
        _this_host {
            address ipv4 192.0.2.1:11000;
            volume 0 {
                device minor 0; disk "/dev/vg/lv"; meta-disk "/dev/vg/meta" [ 0 ];
                disk { size 2097152s; # bytes
                }
            }
        }
    }

8.4 has a single connection per resource: its `net` section and the `_remote_host` /
`_this_host` addresses become the one `ConnectionConfig` (without name or node id). Comments
(`# bytes`) are drbdsetup's hints and are dropped. Maps onto the `drbdsetup show --json` models.
"""

import re
from dataclasses import dataclass, field

from reconciler.observe.drbd.show_json import (
    ConnectionConfig,
    DrbdConfig,
    Option,
    PathConfig,
    ResourceConfig,
    VolumeConfig,
)
from reconciler.observe.errors import ParseError

KIND = "drbdsetup-show-84"
MAX_NESTING = 16  # drbdsetup nests three levels (resource, _this_host, volume, disk); see docs/limits.md
_QUOTED_LINE = 200  # an error quotes at most this much of its line
_TOKEN = re.compile(
    r'\s*(?:#[^\n]*|"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<punct>[{};\[\]])|(?P<word>[^\s{};\[\]"#]+))'
)


@dataclass
class _Token:
    text: str
    line: int
    quoted: bool = False


@dataclass
class _Node:
    """`keyword args... ;` or `keyword args... { children }`."""

    keyword: str
    args: list[str]
    line: int
    children: list["_Node"] | None = None
    extra: list[str] = field(default_factory=list)  # the `[ 0 ]` index of meta-disk


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.depth = 0

    def error(self, message: str, line: int) -> ParseError:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        if text is not None and len(text) > _QUOTED_LINE:
            text = text[:_QUOTED_LINE] + "..."
        return ParseError(KIND, message, line=line, text=text)

    def _tokenize(self, text: str) -> list[_Token]:
        """Tokens with their lines; lines are counted as the scan goes (linear, whatever the size)."""
        tokens: list[_Token] = []
        pos = 0
        line, counted = 1, 0
        while (match := _TOKEN.match(text, pos)) is not None and match.end() > pos:
            pos = match.end()
            group = match.lastgroup
            if group is not None:  # None: a comment
                start = match.start(group)
                line += text.count("\n", counted, start)
                counted = start
                tokens.append(_Token(match[group], line, quoted=group == "quoted"))
        if text[pos:].strip():
            raise self.error("unexpected character", line + text.count("\n", counted, pos))
        return tokens

    def block(self, closing: bool) -> list[_Node]:
        self.depth += 1
        try:
            return self._block(closing)
        finally:
            self.depth -= 1

    def _block(self, closing: bool) -> list[_Node]:
        if self.depth > MAX_NESTING:
            line = self.tokens[min(self.pos, len(self.tokens) - 1)].line if self.tokens else 1
            raise self.error(f"sections nested deeper than {MAX_NESTING} levels", line)
        nodes: list[_Node] = []
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token.text == "}" and not token.quoted:
                if not closing:
                    raise self.error("'}' without '{'", token.line)
                self.pos += 1
                return nodes
            nodes.append(self.statement())
        if closing:
            raise self.error("missing '}'", self.tokens[-1].line if self.tokens else 1)
        return nodes

    def statement(self) -> _Node:
        first = self.tokens[self.pos]
        node = _Node(keyword=first.text, args=[], line=first.line)
        self.pos += 1
        target = node.args
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            if token.quoted or token.text not in "{};[]":
                target.append(token.text)
            elif token.text == ";":
                return node
            elif token.text == "{":
                node.children = self.block(closing=True)
                return node
            elif token.text == "[":
                target = node.extra
            elif token.text == "]":
                target = node.args
            else:
                raise self.error(f"unexpected {token.text!r}", token.line)
        raise self.error("statement without ';' or '{ }'", first.line)


def _options(node: _Node) -> tuple[Option, ...]:
    return tuple(
        Option(name=n.keyword, value=" ".join(n.args)) for n in node.children or [] if n.children is None
    )


def _volume(node: _Node, parser: _Parser) -> VolumeConfig:
    values: dict[str, _Node] = {n.keyword: n for n in node.children or [] if n.children is None}
    sections = [n for n in node.children or [] if n.children is not None]
    if any(n.keyword != "disk" for n in sections) or len(sections) > 1:
        raise parser.error("unexpected section in a volume", sections[-1].line)
    device = values.get("device")
    minor = device.args[-1] if device and device.args[:1] == ["minor"] else None
    meta = values.get("meta-disk")
    if not node.args or not node.args[0].isdigit() or (minor is not None and not minor.isdigit()):
        raise parser.error("expected 'volume N' and 'device minor N'", node.line)
    return VolumeConfig(
        number=int(node.args[0]),
        minor=None if minor is None else int(minor),
        disk=" ".join(values["disk"].args) if "disk" in values else None,
        meta_disk=" ".join(meta.args) if meta else None,
        meta_disk_index=int(meta.extra[0]) if meta and meta.extra and meta.extra[0].isdigit() else None,
        disk_options=_options(sections[0]) if sections else (),
    )


def _address(node: _Node | None) -> str | None:
    if node is None:
        return None
    address = next((n for n in node.children or [] if n.keyword == "address"), None)
    return None if address is None else " ".join(address.args)


def _resource(node: _Node, parser: _Parser) -> ResourceConfig:
    if node.keyword != "resource" or len(node.args) != 1 or node.children is None:
        raise parser.error("expected 'resource NAME { ... }'", node.line)
    sections = {n.keyword: n for n in node.children}
    unknown = set(sections) - {"options", "net", "disk", "_this_host", "_remote_host"}
    if unknown:
        raise parser.error(f"unexpected section {sorted(unknown)[0]!r}", sections[sorted(unknown)[0]].line)
    this_host, remote = sections.get("_this_host"), sections.get("_remote_host")
    local, peer = _address(this_host), _address(remote)
    connection = ConnectionConfig(
        paths=(PathConfig(local=local, peer=peer),) if local and peer else (),
        net_options=_options(sections["net"]) if "net" in sections else (),
    )
    volumes = [n for n in (this_host.children or []) if n.keyword == "volume"] if this_host else []
    return ResourceConfig(
        name=node.args[0],
        options=_options(sections["options"]) if "options" in sections else (),
        volumes=tuple(_volume(v, parser) for v in volumes),
        connections=(connection,) if remote is not None or "net" in sections else (),
    )


def parse_drbdsetup_show_84(text: str) -> DrbdConfig:
    parser = _Parser(text)
    return DrbdConfig(resources=tuple(_resource(node, parser) for node in parser.block(closing=False)))


KINDS = {KIND: parse_drbdsetup_show_84}

"""Every output format the observation parsers read, by the name `observe --parse` takes."""

import difflib
from collections.abc import Callable

from reconciler.observe import drbd, ip_json, ip_text, lvm, mounts, virsh, xen, xen_config
from reconciler.observe.facts import Fact

KINDS: dict[str, Callable[[str], Fact]] = {
    **lvm.KINDS,
    **drbd.KINDS,
    **xen.KINDS,
    **xen_config.KINDS,
    **virsh.KINDS,
    **ip_json.KINDS,
    **ip_text.KINDS,
    **mounts.KINDS,
}


class UnknownKind(ValueError):
    def __init__(self, kind: str) -> None:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown kind {kind!r}{hint} (kinds: {', '.join(sorted(KINDS))})")


def parse(kind: str, text: str) -> Fact:
    """Parse `text` as the output format `kind`; raises ParseError (or UnknownKind)."""
    parser = KINDS.get(kind)
    if parser is None:
        raise UnknownKind(kind)
    return parser(text)

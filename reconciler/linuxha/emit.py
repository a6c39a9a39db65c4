"""The imported document as YAML, with the report in it as comments.

A finding that concerns a value sits at the end of that value's line; the others (what was not
carried over) are listed in the header, so that the file says everything stderr said.
"""

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.linuxha.report import PLACEHOLDER_PREFIX, Finding, Kind, YamlPath

_HEADINGS = (
    (Kind.PLACEHOLDER, "To fill in (`reconciler validate` refuses the manifest until then)"),
    (Kind.NOT_CARRIED, "Not carried over"),
    (Kind.GUESSED, "Guessed (check these)"),
    (Kind.DEFAULTED, "Defaulted"),
)


def _tree(value: Any) -> Any:
    """Plain data as ruamel's round-trip types, which carry comments; short lists in flow style."""
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _tree(item)
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_tree(item) for item in value)
        if all(not isinstance(item, dict | list) for item in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _anchor(root: CommentedMap, path: YamlPath) -> tuple[CommentedMap | CommentedSeq, str | int] | None:
    """The container and key of the deepest part of `path` that is in the document.

    A mapping inside a list is pointed at by its first key, so that the comment lands on the
    `- name: ...` line rather than after the whole item.
    """
    node: Any = root
    found: tuple[CommentedMap | CommentedSeq, str | int] | None = None
    for element in path:
        in_map = isinstance(node, CommentedMap) and element in node
        in_seq = isinstance(node, CommentedSeq) and isinstance(element, int) and element < len(node)
        if not (in_map or in_seq):
            break
        found, node = (node, element), node[element]
    if found is not None and isinstance(found[0], CommentedSeq) and isinstance(node, CommentedMap) and node:
        found = (node, next(iter(node)))
    return found


def _comments(root: CommentedMap, findings: Sequence[Finding]) -> list[Finding]:
    """Put each finding with a place beside its value; return those that have none."""
    by_place: dict[tuple[int, str | int], tuple[CommentedMap | CommentedSeq, str | int, list[str]]] = {}
    homeless = []
    for finding in findings:
        anchor = _anchor(root, finding.at) if finding.at else None
        if anchor is None:
            homeless.append(finding)
            continue
        container, key = anchor
        by_place.setdefault((id(container), key), (container, key, []))[2].append(finding.comment())
    for container, key, texts in by_place.values():
        # Column 0: one space before every `#`. Left to itself ruamel puts two before the first
        # comment of a mapping and one before the others.
        container.yaml_add_eol_comment("# " + "; ".join(dict.fromkeys(texts)), key, column=0)
    return homeless


def _header(inputs: Sequence[str], findings: Sequence[Finding]) -> str:
    lines = ["Imported by `reconciler import linuxha` from:"]
    lines += [f"  {name}" for name in inputs]
    lines += [
        "Every value says where it came from; what was defaulted or guessed says so beside it.",
        f'Placeholders read "{PLACEHOLDER_PREFIX}...>": `reconciler validate` refuses them until filled in.',
    ]
    for kind, heading in _HEADINGS:
        chosen = [f for f in findings if f.kind is kind]
        if chosen:
            lines += ["#", f"{heading}:"]
            # One finding per line, however long: a line can be grepped for, a wrapped one not.
            lines += [f"  {finding}" for finding in chosen]
    return "\n".join(lines)


def render(document: dict[str, Any], findings: Sequence[Finding], inputs: Sequence[str]) -> str:
    """The document as YAML; every finding is a comment, beside its value or in the header."""
    root = _tree(document)
    _comments(root, findings)
    notable = [f for f in findings if f.kind is not Kind.CARRIED]
    root.yaml_set_start_comment(_header(inputs, notable))
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # a long value stays on one line, and so does its comment
    stream = io.StringIO()
    yaml.dump(root, stream)
    return stream.getvalue()

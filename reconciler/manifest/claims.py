"""Claims: a value declared at a place, and the two rules every cross-document check is made of."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.manifest.diagnostics import Diagnostic, Position
from reconciler.manifest.yamlsource import PathElement, SourceDocument


@dataclass(frozen=True)
class Claim:
    """A value declared at a place: the unit that uniqueness and reference checks work on."""

    value: Any
    source: SourceDocument
    path: tuple[PathElement, ...]

    @property
    def position(self) -> Position:
        return self.source.locate(self.path)


def check_unique(claims: Iterable[Claim], code: str, what: str, note: str = "") -> Iterator[Diagnostic]:
    first: dict[Any, Claim] = {}
    for claim in claims:
        if claim.value in first:
            earlier = first[claim.value]
            yield Diagnostic(
                position=claim.position,
                code=code,
                message=f"{what} {_show(claim.value)} is already declared",
                hint=f"first declared at {earlier.position}{note}",
            )
        else:
            first[claim.value] = claim


def check_known(claims: Iterable[Claim], known: Sequence[Any], code: str, what: str) -> Iterator[Diagnostic]:
    for claim in claims:
        if claim.value not in known:
            yield Diagnostic(
                position=claim.position,
                code=code,
                message=f"{what} {_show(claim.value)} is not declared in the cluster",
                hint=f"declared {what}s: {', '.join(sorted(str(k) for k in known))}",
            )


def _show(value: Any) -> str:
    return repr(str(value)) if not isinstance(value, str) else repr(value)

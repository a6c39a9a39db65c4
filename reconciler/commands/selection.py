"""`apply --app APP`: a pass that acts on some applications only.

A placement source decides which applications a pass plans for; one it leaves out is *held* (see
reconciler/core/placement.py): nothing is planned for it. Acting on APP alone is therefore the
placement the command would use, with every other application held.
"""

from dataclasses import dataclass, replace

import click

from reconciler.core.placement import Placement, PlacementSource
from reconciler.manifest import ManifestSet


@dataclass(frozen=True)
class OnlyApps:
    """`inner`'s placement, with every application but `apps` held."""

    inner: PlacementSource
    apps: frozenset[str]

    def placement(self, manifests: ManifestSet) -> Placement:
        decided = self.inner.placement(manifests)
        return replace(decided, active={a: n for a, n in decided.active.items() if a in self.apps})


def only_apps(source: PlacementSource, manifests: ManifestSet, apps: tuple[str, ...]) -> PlacementSource:
    """`source` restricted to `apps` (all when none is named); an unknown name is an error."""
    if not apps:
        return source
    declared = {a.name for a in manifests.applications}
    unknown = sorted(set(apps) - declared)
    if unknown:
        raise click.ClickException(
            f"no application {', '.join(unknown)} in the manifests (declared: {', '.join(sorted(declared))})"
        )
    return OnlyApps(source, frozenset(apps))

"""The DRBD releases the lab simulates, one per family, and how `lab up --drbd` names them.

A node's simulated DRBD decides what its stand-ins print and accept: /proc/drbd's version line and
layout, drbdadm's syntax (8.3 and 8.4 take drbdsetup's options after `--`), the drbdsetup commands
that exist (`status` and `events2` only in 9), the metadata format (v08, v09) and which parser of
drbd-utils' real drbdadm reads its resource files (`DRBD_DRIVER_VERSION_OVERRIDE`).

The two nodes may differ: DRBD 9 accepts the DRBD 8 protocols 86-101 as its rolling upgrade path
(drbd_config.h: PRO_VERSION_8_MIN/MAX), 8.4 speaks 86-101 and 8.3.16 86-97, so every pair of these
releases agrees on a protocol and connects, as on real hosts in the middle of an upgrade.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DrbdRelease:
    family: str  # "8.3", "8.4", "9": what `--drbd` takes
    version: str  # what /proc/drbd's first line says
    api: str  # the genetlink (8.4: 1, 9: 2) or ioctl (8.3: 88) API of the version line
    proto_min: int
    proto_max: int
    git_hash: str


RELEASES: Mapping[str, DrbdRelease] = {
    "8.3": DrbdRelease("8.3", "8.3.16", "88", 86, 97, "a798fa7e274428a357657fb52f0ecf40192c1985"),
    "8.4": DrbdRelease("8.4", "8.4.11", "1", 86, 101, "66145a308421e9c124ec391a7848ac20203bb03c"),
    "9": DrbdRelease("9", "9.2.8", "2", 86, 122, "e163b05a76254c0f51f999970e861d72bb16409a"),
}
DEFAULT_DRBD = RELEASES["9"].version
_VERSION = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)*")


class VersionError(ValueError):
    """A `--drbd` value the lab cannot simulate, or a node the manifests do not declare."""


def family(version: str) -> str:
    """The family of a full version: "8.3.16" -> "8.3", "9.2.8" -> "9"."""
    match = _VERSION.fullmatch(version)
    if match is None:
        raise VersionError(f"{version!r} is not a DRBD version")
    name = match["major"] if match["major"] == "9" else f"{match['major']}.{match['minor']}"
    if name not in RELEASES:
        raise VersionError(f"DRBD {version}: the lab simulates {', '.join(RELEASES)}")
    return name


def release(version: str) -> DrbdRelease:
    """The release a node simulates, by its full version (the version line keeps it as given)."""
    return RELEASES[family(version)]


def resolve(text: str) -> str:
    """A `--drbd` value as a full version: a family ("8.4" -> "8.4.11") or a version of one."""
    if text in RELEASES:
        return RELEASES[text].version
    family(text)
    return text


def per_node(values: Iterable[str], nodes: Sequence[str], default: str = DEFAULT_DRBD) -> dict[str, str]:
    """Each node's DRBD from `--drbd` values: VERSION for every node, NODE=VERSION for one; a
    later value wins over an earlier one."""
    chosen = dict.fromkeys(nodes, default)
    for value in values:
        node, sep, version = value.rpartition("=")
        if sep and node not in chosen:
            raise VersionError(f"--drbd {value}: no node {node!r} (the nodes: {', '.join(nodes)})")
        full = resolve(version)
        for name in [node] if sep else nodes:
            chosen[name] = full
    return chosen

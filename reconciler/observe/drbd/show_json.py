"""`drbdsetup show --json [resource|all]` (DRBD 9): the configuration the kernel runs.

    [{"resource": "r0", "options": {...},
      "_this_host": {"node-id": 1, "volumes": [
          {"volume_nr": 0, "device_minor": 5, "disk": "/dev/vdb1", "meta-disk": "internal",
           "disk": {"on-io-error": "pass_on"}}]},
      "connections": [{"_peer_node_id": 2,
          "path": {"_this_host": "ipv4 10.0.0.1:7990", "_remote_host": "ipv4 10.0.0.2:7990"},
          "net": {"_name": "peer", ...}, "volumes": [{"volume_nr": 0, "disk": {...}}]}]}]

drbdsetup prints the key "disk" twice in a volume: the backing device (a string) and the disk
options section (an object). A plain dict would keep only the last one, so the objects are
decoded as lists of pairs and each "disk" is read by the type of its value. Elsewhere a repeated
key is a `ParseError`. Option values are kept as the strings drbdsetup prints.
"""

from dataclasses import dataclass
from typing import Any

from reconciler.observe.drbd.jsontext import load_json
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Fact

KIND = "drbdsetup-show-json"


class Option(Fact):
    name: str
    value: str


class VolumeConfig(Fact):
    number: int
    minor: int | None = None
    disk: str | None = None
    meta_disk: str | None = None
    meta_disk_index: int | None = None
    disk_options: tuple[Option, ...] = ()


class PeerVolumeConfig(Fact):
    number: int
    disk_options: tuple[Option, ...] = ()


class PathConfig(Fact):
    local: str
    peer: str


class ConnectionConfig(Fact):
    name: str | None = None
    peer_node_id: int | None = None
    paths: tuple[PathConfig, ...] = ()
    net_options: tuple[Option, ...] = ()
    volumes: tuple[PeerVolumeConfig, ...] = ()


class ResourceConfig(Fact):
    name: str
    node_id: int | None = None
    options: tuple[Option, ...] = ()
    volumes: tuple[VolumeConfig, ...] = ()
    connections: tuple[ConnectionConfig, ...] = ()


class DrbdConfig(Fact):
    resources: tuple[ResourceConfig, ...] = ()


@dataclass(frozen=True)
class _Obj:
    """A JSON object with its keys in order, repeated keys included."""

    pairs: list[tuple[str, Any]]

    def values(self, key: str) -> list[Any]:
        return [value for k, value in self.pairs if k == key]

    def get(self, key: str) -> Any:
        found = self.values(key)
        if len(found) > 1:
            raise ParseError(KIND, f"key {key!r} given {len(found)} times")
        return found[0] if found else None


def _as(value: Any, kind: type, what: str, *, required: bool = False) -> Any:
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ParseError(KIND, f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def _objects(value: Any, what: str) -> list[_Obj]:
    """A list of objects; drbdsetup prints a single path as one object, not a list."""
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [_as(item, _Obj, what, required=True) for item in items]


def _options(section: Any, what: str) -> tuple[Option, ...]:
    if section is None:
        return ()
    obj = _as(section, _Obj, what)
    return tuple(Option(name=key, value=str(value)) for key, value in obj.pairs if not key.startswith("_"))


def _volume(obj: _Obj) -> VolumeConfig:
    disks = obj.values("disk")
    backing = [d for d in disks if not isinstance(d, _Obj)]
    sections = [d for d in disks if isinstance(d, _Obj)]
    if len(backing) > 1 or len(sections) > 1:
        raise ParseError(KIND, f"volume with {len(disks)} 'disk' keys")
    return VolumeConfig(
        number=_as(obj.get("volume_nr"), int, "volume_nr", required=True),
        minor=_as(obj.get("device_minor"), int, "device_minor"),
        disk=_as(backing[0], str, "disk") if backing else None,
        meta_disk=_as(obj.get("meta-disk"), str, "meta-disk"),
        disk_options=_options(sections[0] if sections else None, "disk"),
    )


def _connection(obj: _Obj) -> ConnectionConfig:
    net = obj.get("net")
    name = None if net is None else _as(_as(net, _Obj, "net").get("_name"), str, "_name")
    return ConnectionConfig(
        name=name,
        peer_node_id=_as(obj.get("_peer_node_id"), int, "_peer_node_id"),
        paths=tuple(
            PathConfig(
                local=_as(p.get("_this_host"), str, "_this_host", required=True),
                peer=_as(p.get("_remote_host"), str, "_remote_host", required=True),
            )
            for p in _objects(obj.get("path"), "path")
        ),
        net_options=_options(net, "net"),
        volumes=tuple(
            PeerVolumeConfig(
                number=_as(v.get("volume_nr"), int, "volume_nr", required=True),
                disk_options=_options(v.get("disk"), "disk"),
            )
            for v in _objects(obj.get("volumes"), "volumes")
        ),
    )


def _resource(obj: _Obj) -> ResourceConfig:
    this_host = obj.get("_this_host")
    host = _Obj([]) if this_host is None else _as(this_host, _Obj, "_this_host")
    return ResourceConfig(
        name=_as(obj.get("resource"), str, "resource", required=True),
        node_id=_as(host.get("node-id"), int, "node-id"),
        options=_options(obj.get("options"), "options"),
        volumes=tuple(_volume(v) for v in _objects(host.get("volumes"), "volumes")),
        connections=tuple(_connection(c) for c in _objects(obj.get("connections"), "connections")),
    )


def parse_show_json(text: str) -> DrbdConfig:
    data = load_json(text, KIND, object_pairs_hook=_Obj)
    if not isinstance(data, list):
        raise ParseError(KIND, "expected a JSON list of resources")
    return DrbdConfig(resources=tuple(_resource(_as(r, _Obj, "resource", required=True)) for r in data))


KINDS = {KIND: parse_show_json}

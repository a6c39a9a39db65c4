"""The domain an application runs: a Xen guest under xm or xl, or any start/stop command pair."""

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

from reconciler.manifest.common import Model
from reconciler.manifest.names import AbsolutePath, Argv, Name, NodeName


class Toolstack(StrEnum):
    XM = "xm"
    XL = "xl"
    COMMANDS = "commands"


def _check_config_value(value: Any) -> int | str | tuple[str, ...]:
    """An int, a string, or a list of strings: what a domain config file holds.

    Strings are written into /etc/xen/NAME quoted; a newline would start an assignment that the
    manifest never declared, so it is refused here rather than escaped there.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    items = value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"a domain config value is a number, a string or a list of strings, not {value!r}")
    if any(c in item for item in items for c in "\n\r\0"):
        raise ValueError("a domain config value cannot contain newlines or NUL")
    return tuple(items) if isinstance(value, list | tuple) else value


def _check_config_key(value: str) -> str:
    if not value.isidentifier() or value.startswith("_"):
        raise ValueError(f"{value!r} is not a domain config key (a Python-style identifier)")
    return value


ConfigKey = Annotated[StrictStr, AfterValidator(_check_config_key)]
ConfigValue = Annotated[
    int | str | tuple[str, ...],
    PlainValidator(_check_config_value),
    PlainSerializer(lambda v: list(v) if isinstance(v, tuple) else v),
    WithJsonSchema(
        {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    ),
]
DomainConfig = dict[ConfigKey, ConfigValue]


class DomainOverride(Model):
    """What differs on one node: config keys replaced (e.g. the bridge of a vif), or another file."""

    config: DomainConfig = Field(default_factory=dict, examples=[{"vif": ["bridge=br1"]}])
    config_file: AbsolutePath | None = Field(default=None, examples=["/etc/xen/db-node2"])


class Domain(Model):
    toolstack: Toolstack = Field(
        default=Toolstack.XL, description="xl or xm: a Xen domain; commands: your own start/stop/status."
    )
    name: Name = Field(description="The domain name, as `xm list` / `xl list` show it.")
    config: DomainConfig | None = Field(
        default=None, description="The domain config as data; written to /etc/xen/<name>."
    )
    config_file: AbsolutePath | None = Field(
        default=None, description="An existing domain config file, used as it is.", examples=["/etc/xen/db"]
    )
    start: Argv | None = Field(
        default=None,
        description="Only with toolstack: commands.",
        examples=[["/usr/sbin/service", "web", "start"]],
    )
    stop: Argv | None = Field(
        default=None,
        description="Only with toolstack: commands; must wait.",
        examples=[["/usr/sbin/service", "web", "stop"]],
    )
    status: Argv | None = Field(
        default=None,
        description="Only with toolstack: commands; exit 0 when running.",
        examples=[["/usr/sbin/service", "web", "status"]],
    )
    nodes: dict[NodeName, DomainOverride] = Field(
        default_factory=dict, description="Per-node overrides, e.g. a different bridge."
    )

    @model_validator(mode="after")
    def _fits_toolstack(self) -> Self:
        if self.toolstack is Toolstack.COMMANDS:
            self._check_commands()
        else:
            self._check_xen()
        return self

    def _check_commands(self) -> None:
        missing = [
            k for k, v in (("start", self.start), ("stop", self.stop), ("status", self.status)) if v is None
        ]
        if missing:
            raise ValueError(f"toolstack 'commands' needs {', '.join(missing)} (argv lists)")
        if self.config is not None or self.config_file is not None or self.nodes:
            raise ValueError("toolstack 'commands' takes no config, configFile or node overrides")

    def _check_xen(self) -> None:
        if self.start or self.stop or self.status:
            raise ValueError(
                f"toolstack {self.toolstack.value!r} derives start/stop/status from {self.toolstack.value}; "
                "use toolstack: commands for your own commands"
            )
        if (self.config is None) == (self.config_file is None):
            raise ValueError("give exactly one of config (data) or configFile (a path)")
        if self.config is not None and self.config.get("name", self.name) != self.name:
            raise ValueError(
                f"config name {self.config['name']!r} differs from the domain name {self.name!r}"
            )
        for node, override in self.nodes.items():
            if override.config and self.config is None:
                raise ValueError(f"node {node!r} overrides config keys, but the domain has no config data")

"""Monitors, the successor of lems: what to check, how often, and what each exit code means."""

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from reconciler.manifest.cluster import IPAddress
from reconciler.manifest.common import Int, Model, Port, Text
from reconciler.manifest.names import Argv
from reconciler.manifest.units import Duration, format_duration, parse_duration


class MonitorActionKind(StrEnum):
    NOP = "NOP"
    PAUSE = "PAUSE"
    STOP = "STOP"
    FAILOVER = "FAILOVER"
    RESTART = "RESTART"


class MonitorAction(Model):
    """One entry of the rc -> action list: `NOP`, `PAUSE 30s`, `STOP`, `FAILOVER`, `RESTART`."""

    kind: MonitorActionKind
    pause: Duration | None = None


_ACTION = re.compile(r"(NOP|STOP|FAILOVER|RESTART)|PAUSE\s+(\S+)")
ACTION_PATTERN = r"^(NOP|STOP|FAILOVER|RESTART|PAUSE\s+([0-9]+|([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+))$"


def parse_action(value: Any) -> MonitorAction:
    if isinstance(value, MonitorAction):
        return value
    if not isinstance(value, str):
        raise ValueError(f"an action is one of NOP, PAUSE n, STOP, FAILOVER, RESTART; not {value!r}")
    match = _ACTION.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not an action: use NOP, PAUSE 30s, STOP, FAILOVER or RESTART")
    simple, pause = match.groups()
    if simple:
        return MonitorAction(kind=MonitorActionKind(simple))
    # lems wrote `PAUSE 30` meaning seconds: that vocabulary is kept as it was.
    length = parse_duration(f"{pause}s" if pause.isdigit() else pause)
    return MonitorAction(kind=MonitorActionKind.PAUSE, pause=length)


def format_action(action: MonitorAction) -> str:
    if action.kind is MonitorActionKind.PAUSE and action.pause is not None:
        return f"PAUSE {format_duration(action.pause)}"
    return action.kind.value


Action = Annotated[
    MonitorAction,
    BeforeValidator(parse_action),
    PlainSerializer(format_action, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": ACTION_PATTERN, "examples": ["NOP", "PAUSE 30s", "FAILOVER"]}
    ),
]
ReturnCode = Annotated[Int, Field(ge=0, le=255)]


def _default_actions() -> dict[int, MonitorAction]:
    return {0: MonitorAction(kind=MonitorActionKind.NOP), 1: MonitorAction(kind=MonitorActionKind.FAILOVER)}


class MonitorBase(Model):
    name: Text = Field(description="Unique among the application's monitors; shown in status and logs.")
    interval: Duration = Field(default=timedelta(seconds=10), description="Time between two checks.")
    timeout: Duration = Field(default=timedelta(seconds=5), description="A check running longer is rc 1.")
    actions: dict[ReturnCode, Action] = Field(
        default_factory=_default_actions,
        description="Exit code -> action (NOP, PAUSE n, STOP, FAILOVER, RESTART); unlisted codes: NOP.",
    )
    restart_limit: Annotated[Int, Field(ge=0)] = Field(
        default=3, description="RESTARTs allowed within failureExpiry before the monitor fails over."
    )
    failure_expiry: Duration = Field(
        default=timedelta(minutes=10), description="How long a RESTART counts against restartLimit."
    )


class FilesystemMonitor(MonitorBase):
    """Every filesystem of the application mounted and writable (lems' fsmon)."""

    type: Literal["fsmon"]


class DomainMonitor(MonitorBase):
    """The domain is listed as running by `xm list` / `xl list`."""

    type: Literal["domain"]


class PingMonitor(MonitorBase):
    """`address` answers a ping."""

    type: Literal["ping"]
    address: IPAddress = Field(description="The address pinged.")


class TcpMonitor(MonitorBase):
    """A TCP connection to `address`:`port` is accepted."""

    type: Literal["tcp"]
    address: IPAddress = Field(description="The address connected to.")
    port: Port = Field(description="The TCP port connected to.")


class ProcessMonitor(MonitorBase):
    """A process of that name runs on the node."""

    type: Literal["process"]
    process: Text = Field(description="Name of a process that must be present (as psutil reports it).")


class MemoryMonitor(MonitorBase):
    """The node's memory and swap use stay under their maximums."""

    type: Literal["memory"]
    max_memory_percent: Annotated[float, Field(gt=0, le=100)] = Field(
        default=95.0, description="Memory in use, in percent, above which the check fails."
    )
    max_swap_percent: Annotated[float, Field(ge=0, le=100)] = Field(
        default=50.0, description="Swap in use, in percent, above which the check fails."
    )


class CommandMonitor(MonitorBase):
    """Your own check: its exit code is the monitor's rc."""

    type: Literal["command"]
    argv: Argv = Field(description="The command, as an argv list (absolute program path).")


Monitor = Annotated[
    FilesystemMonitor
    | DomainMonitor
    | PingMonitor
    | TcpMonitor
    | ProcessMonitor
    | MemoryMonitor
    | CommandMonitor,
    Field(discriminator="type"),
]

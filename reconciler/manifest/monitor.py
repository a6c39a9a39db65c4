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


class ActionKind(StrEnum):
    NOP = "NOP"
    PAUSE = "PAUSE"
    STOP = "STOP"
    FAILOVER = "FAILOVER"
    RESTART = "RESTART"


class MonitorAction(Model):
    """One entry of the rc -> action list: `NOP`, `PAUSE 30s`, `STOP`, `FAILOVER`, `RESTART`."""

    kind: ActionKind
    pause: Duration | None = None


_ACTION = re.compile(r"(NOP|STOP|FAILOVER|RESTART)|PAUSE\s+(\S+)")
ACTION_PATTERN = r"^(NOP|STOP|FAILOVER|RESTART|PAUSE [0-9]+(\.[0-9]+)?(ms|s|m|h)?)$"


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
        return MonitorAction(kind=ActionKind(simple))
    # lems wrote `PAUSE 30` meaning seconds: that vocabulary is kept as it was.
    length = timedelta(seconds=int(pause)) if pause.isdigit() else parse_duration(pause)
    return MonitorAction(kind=ActionKind.PAUSE, pause=length)


def format_action(action: MonitorAction) -> str:
    if action.kind is ActionKind.PAUSE and action.pause is not None:
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
    return {0: MonitorAction(kind=ActionKind.NOP), 1: MonitorAction(kind=ActionKind.FAILOVER)}


class MonitorBase(Model):
    name: Text
    interval: Duration = timedelta(seconds=10)
    timeout: Duration = timedelta(seconds=5)
    actions: dict[ReturnCode, Action] = Field(
        default_factory=_default_actions,
        description="Exit code -> action (NOP, PAUSE n, STOP, FAILOVER, RESTART); unlisted codes: NOP.",
    )
    restart_limit: Annotated[Int, Field(ge=0)] = Field(
        default=3, description="RESTARTs allowed within failureExpiry before the monitor fails over."
    )
    failure_expiry: Duration = timedelta(minutes=10)


class FilesystemMonitor(MonitorBase):
    """Every filesystem of the application mounted and writable (lems' fsmon)."""

    type: Literal["fsmon"]


class DomainMonitor(MonitorBase):
    """The domain is listed as running by `xm list` / `xl list`."""

    type: Literal["domain"]


class PingMonitor(MonitorBase):
    type: Literal["ping"]
    address: IPAddress


class TcpMonitor(MonitorBase):
    type: Literal["tcp"]
    address: IPAddress
    port: Port


class ProcessMonitor(MonitorBase):
    type: Literal["process"]
    process: Text = Field(description="Name of a process that must be present (as psutil reports it).")


class MemoryMonitor(MonitorBase):
    type: Literal["memory"]
    max_memory_percent: Annotated[float, Field(gt=0, le=100)] = 95.0
    max_swap_percent: Annotated[float, Field(ge=0, le=100)] = 50.0


class CommandMonitor(MonitorBase):
    type: Literal["command"]
    argv: Argv


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

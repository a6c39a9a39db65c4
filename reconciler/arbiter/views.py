"""What the arbiter decides from, and what it decides: frozen data, no behaviour beyond reading it.

The edge (the agent) fills these from the lease store, the observed state, the monitors, the
heartbeats, the tie-breaker probe and the fencing command; `reconciler.arbiter.decide` turns them
into one `Decision` per application. Times: `LocalView.now` is the `SteadyClock` reading of the
local lease records; every age is seconds on the local monotonic clock, up to now.
"""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.arbiter.lease import Lease
from reconciler.arbiter.placement import Override

Seconds = float


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Verdict(StrEnum):
    RUN = "run"  # keep it running here, or start it under the lease this node holds; renew
    STAY_STOPPED = "stay-stopped"  # not here, and nothing to wait for
    STOP = "stop"  # stop it here, then write the released lease
    TAKE_OVER = "take-over"  # write the lease (epoch + 1), then start it here
    WAIT = "wait"  # meant to run here once something changes (the reason says what)
    SELF_FENCE = "self-fence"  # stop it at once (hard stop), before this node's lease runs out
    NEED_FENCING = "need-fencing"  # run the fencing command against the peer, then decide again
    HOLD = "hold"  # maintenance: the arbiter does nothing at all for this application


class FencingState(StrEnum):
    NOT_CONFIGURED = "not-configured"
    NOT_TRIED = "not-tried"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Settings(_Frozen):
    """From the cluster manifest; the same on both nodes (the safety argument needs it)."""

    dead_time: Seconds = Field(gt=0, description="Silence on every link after which the peer is dead.")
    lease_duration: Seconds = Field(gt=0, description="How long a lease lasts after its last contact.")
    self_fence_margin: Seconds = Field(
        gt=0,
        description="A holder without contact stops this long before its lease ends. Must cover a pass "
        "interval plus the hard stop of the application plus clock-rate drift over the lease duration.",
    )
    tie_breaker_configured: bool = False
    load_hysteresis: float = Field(default=0.2, ge=0, description="In the unit of the loads.")

    @model_validator(mode="after")
    def _margin_within_lease(self) -> Self:
        if self.self_fence_margin >= self.lease_duration:
            raise ValueError("the self-fencing margin must be shorter than the lease duration")
        return self


class Facts(_Frozen):
    tie_breaker_ok: bool | None = Field(default=None, description="None: not configured or not probed.")
    fencing: FencingState = FencingState.NOT_CONFIGURED


class LocalApp(_Frozen):
    lease: Lease = Field(description="This node's record, as the lease store holds it.")
    running: bool = Field(description="Running here, wholly or in part (anything that a stop would undo).")
    disk: str | None = Field(
        description="The local DRBD disk state (UpToDate, Outdated, ...); None: unknown."
    )
    failed: bool = Field(default=False, description="A monitor asked for a failover away from this node.")
    maintenance: bool = False
    override: Override = Field(default_factory=Override)


class LocalView(_Frozen):
    node: str
    now: Seconds = Field(description="SteadyClock seconds, the scale of the lease records.")
    load: float | None = None
    apps: dict[str, LocalApp]

    @model_validator(mode="after")
    def _leases_match_apps(self) -> Self:
        for name, app in self.apps.items():
            if app.lease.app != name:
                raise ValueError(f"the lease given for {name} is the lease of {app.lease.app}")
        return self


class PeerApp(_Frozen):
    """One application as the peer's latest accepted heartbeat describes it."""

    running: bool
    lease_epoch: int = Field(ge=0)
    lease_holder: str | None
    lease_expires_in: Seconds | None = Field(
        description="Seconds left on the peer's own lease when it sent this; None when that lease is "
        "open-ended, or the peer does not hold it (its record of our lease has no times)."
    )
    disk: str | None
    failed: bool = False
    maintenance: bool = False
    override: Override = Field(default_factory=Override)

    @property
    def open_ended(self) -> bool:
        return self.lease_holder is not None and self.lease_expires_in is None


class PeerView(_Frozen):
    node: str
    link_ages: dict[str, Seconds | None] = Field(
        description="Per heartbeat network, seconds since an accepted heartbeat; None: none since listening."
    )
    listening_for: Seconds = Field(ge=0, description="Seconds since this agent began listening.")
    echo_age: Seconds | None = Field(
        description="Seconds since this node sent the newest of its heartbeats that the peer reports having "
        "received (the peer echoes it); None: the peer reports none since this agent started."
    )
    load: float | None = None
    apps: dict[str, PeerApp] = Field(default_factory=dict, description="From the latest heartbeat.")

    @property
    def silence(self) -> Seconds:
        """Seconds since the latest heartbeat on any link: the peer is dead once it reaches deadTime."""
        ages = [self.listening_for if age is None else age for age in self.link_ages.values()]
        return min(ages, default=self.listening_for)


class Decision(_Frozen):
    app: str
    verdict: Verdict
    reason: str = Field(description="For operators (`explain`); no code branches on it.")
    lease: Lease | None = Field(
        default=None,
        description="The record to write: before starting (RUN, TAKE_OVER), after stopping (STOP, "
        "SELF_FENCE), at once otherwise. None: nothing to write.",
    )

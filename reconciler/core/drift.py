"""A difference between what the manifests declare and what a node has, in `gnt-cluster verify` style."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from reconciler.core.refs import Ref


class Severity(StrEnum):
    ERROR = "error"  # the application is not as declared, or data is at risk
    WARNING = "warning"  # declared state not reached yet, or not verifiable
    INFO = "info"


class DriftCode(StrEnum):
    APP_DOWN = "APP_DOWN"
    APP_UP_ON_WRONG_NODE = "APP_UP_ON_WRONG_NODE"
    DOMAIN_CRASHED = "DOMAIN_CRASHED"  # still holds its name and disks until destroyed, on either node
    VG_MISSING = "VG_MISSING"
    LV_MISSING = "LV_MISSING"
    LV_TOO_SMALL = "LV_TOO_SMALL"
    LV_UNDECLARED = "LV_UNDECLARED"
    DRBD_CONFIG_DIFFERS = "DRBD_CONFIG_DIFFERS"
    DRBD_DOWN = "DRBD_DOWN"
    DRBD_DISCONNECTED = "DRBD_DISCONNECTED"
    DRBD_DEGRADED = "DRBD_DEGRADED"
    DRBD_SYNCING = "DRBD_SYNCING"
    DRBD_UNINITIALISED = "DRBD_UNINITIALISED"
    DRBD_SPLIT_BRAIN = "DRBD_SPLIT_BRAIN"
    DRBD_ROLE = "DRBD_ROLE"
    DRBD_BOTH_PRIMARY = "DRBD_BOTH_PRIMARY"
    FS_NOT_MOUNTED = "FS_NOT_MOUNTED"
    FS_MOUNTED_ON_STANDBY = "FS_MOUNTED_ON_STANDBY"
    FS_WRONG_SOURCE = "FS_WRONG_SOURCE"
    IP_MISSING = "IP_MISSING"
    IP_UNEXPECTED = "IP_UNEXPECTED"
    NETWORK_DOWN = "NETWORK_DOWN"
    DOMAIN_CONFIG_DIFFERS = "DOMAIN_CONFIG_DIFFERS"
    OBSERVATION_FAILED = "OBSERVATION_FAILED"
    STATE_UNRECOGNISED = "STATE_UNRECOGNISED"
    OPERATOR_OVERRIDE = "OPERATOR_OVERRIDE"  # `move`, `stop` or `maintenance`: desired state beside git


class Drift(BaseModel):
    """One difference: which resource and field, what is declared (and where), what is there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: DriftCode
    severity: Severity
    app: str
    resource: Ref
    field: str
    desired: str
    observed: str
    declared_at: str
    detail: str = ""

    @property
    def key(self) -> str:
        """Identity across runs, for 'first seen' in drift reports: what, not how it looks now."""
        return f"{self.app}/{self.resource}/{self.field}/{self.code.value}"

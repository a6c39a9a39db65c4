"""Plans and drift as text (a terminal), markdown (a merge request) and JSON (a bot).

The JSON shapes are the models `PlanReport` and `DriftReport`; their schemas are committed in
schemas/ and the tests validate real output against them.
"""

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from reconciler.core.drift import Drift, Severity
from reconciler.core.plan.model import Action, ActionKind, Plan, Revision

STOPPING = {
    ActionKind.STOP_DOMAIN,
    ActionKind.DESTROY_DOMAIN,
    ActionKind.REMOVE_ADDRESS,
    ActionKind.UNMOUNT,
    ActionKind.DEMOTE,
}
CHANGING = {ActionKind.WRITE_FILE, ActionKind.WAIT_SYNC, ActionKind.DISCARD_SPLIT_BRAIN}
SYMBOL = {"start": "+", "change": "~", "stop": "-"}

Style = Callable[[str, str], str]


def _plain(text: str, _colour: str) -> str:
    return text


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True)

    to_start: int
    to_change: int
    to_stop: int
    destructive: int
    drift: int
    errors: int

    def line(self) -> str:
        text = f"{self.to_start} to start, {self.to_change} to change, {self.to_stop} to stop"
        if self.destructive:
            text += f" ({self.destructive} destructive)"
        return text


class PlanReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan: Plan
    drift: tuple[Drift, ...]
    summary: Summary


class DriftEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    drift: Drift
    first_seen: datetime


class DriftReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    node: str
    generated_at: datetime
    revision: Revision
    entries: tuple[DriftEntry, ...]


def category(action: Action) -> str:
    if action.kind in STOPPING:
        return "stop"
    if action.kind in CHANGING or (
        action.kind is ActionKind.DRBD_UP and action.do and action.do[1] == "adjust"
    ):
        return "change"
    return "start"


def summarise(plan: Plan, drift: list[Drift]) -> Summary:
    kinds = [category(a) for a in plan.pending()]
    return Summary(
        to_start=kinds.count("start"),
        to_change=kinds.count("change"),
        to_stop=kinds.count("stop"),
        destructive=sum(a.destructive for a in plan.actions),
        drift=len(drift),
        errors=len(plan.errors),
    )


def plan_report(plan: Plan, drift: list[Drift]) -> PlanReport:
    return PlanReport(plan=plan, drift=tuple(drift), summary=summarise(plan, drift))


def render_plan_text(report: PlanReport, style: Style = _plain) -> str:
    plan = report.plan
    lines = [f"Plan for node {plan.node} from manifests {plan.revision.describe()}", ""]
    if report.drift:
        lines.append("Drift:")
        lines += [
            f"  {_severity(d, style)} {d.code.value:<22} {d.resource}  {d.field}: {d.observed} "
            f"(declared {d.desired} at {d.declared_at})"
            for d in report.drift
        ]
        lines.append("")
    if plan.pending():
        lines.append("Actions, in order:")
        for a in plan.pending():
            symbol = SYMBOL[category(a)]
            colour = {"+": "green", "~": "yellow", "-": "red"}[symbol]
            danger = style("  DESTRUCTIVE", "red") if a.destructive else ""
            lines.append(f"  {style(symbol, colour)} {a.id}{danger}")
            lines.append(f"      {describe_action(a)}   (timeout {a.timeout:.0f}s)")
    for error in plan.errors:
        lines.append(style(f"Error: {error}", "red"))
    if not plan.applyable:
        lines.append(style("This plan cannot be applied: the node was not fully observed.", "red"))
    lines += [
        "",
        _closing(report),
    ]
    return "\n".join(lines)


def _closing(report: PlanReport) -> str:
    if report.plan.pending():
        return f"Plan: {report.summary.line()}."
    if report.drift:
        return f"No action can be planned now; {len(report.drift)} difference(s) remain."
    return "No changes: the node is as declared."


def _severity(d: Drift, style: Style) -> str:
    colour = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}[d.severity]
    return style(f"{d.severity.value:<7}", colour)


def describe_action(a: Action) -> str:
    """What an action runs, in one line: its argv, the file it writes, or what it waits for."""
    if a.write is not None:
        return f"write {a.write.path}"
    if a.do is not None:
        return " ".join(a.do)
    verify = a.verify
    what = " ".join(verify.argv) if verify is not None and hasattr(verify, "argv") else "the check"
    return f"wait until {what} holds"


def render_plan_markdown(report: PlanReport) -> str:
    plan = report.plan
    lines = [
        f"### Plan for `{plan.node}` ({plan.revision.describe()})",
        "",
        f"**{report.summary.line()}**",
        "",
    ]
    if report.drift:
        lines += ["| severity | code | resource | observed | declared |", "|---|---|---|---|---|"]
        lines += [
            f"| {d.severity.value} | `{d.code.value}` | `{d.resource}` | {d.observed} | {d.desired} at "
            f"`{d.declared_at}` |"
            for d in report.drift
        ]
        lines.append("")
    if plan.pending():
        lines += ["| | action | command | |", "|---|---|---|---|"]
        for a in plan.pending():
            danger = "**destructive**" if a.destructive else ""
            lines.append(f"| {SYMBOL[category(a)]} | `{a.id}` | `{describe_action(a)}` | {danger} |")
    lines += [f"> **Error:** {e}" for e in plan.errors]
    return "\n".join(lines) + "\n"


def render_drift_text(report: DriftReport, style: Style = _plain) -> str:
    if not report.entries:
        return f"node {report.node}: in sync with manifests {report.revision.describe()}"
    lines = [
        f"node {report.node}: {len(report.entries)} difference(s) from manifests {report.revision.describe()}"
    ]
    for e in report.entries:
        d = e.drift
        lines.append(
            f"  {_severity(d, style)} {d.code.value:<22} {d.resource}  {d.field}: {d.observed}, declared "
            f"{d.desired} at {d.declared_at}  (since {e.first_seen:%Y-%m-%d %H:%M:%S %Z})"
        )
        lines += [f"      {line}" for line in d.detail.splitlines()]
    return "\n".join(lines)


def render_drift_markdown(report: DriftReport) -> str:
    lines = [f"### Drift on `{report.node}` ({report.revision.describe()})", ""]
    if not report.entries:
        return "\n".join([*lines, "In sync."]) + "\n"
    lines += ["| severity | code | resource | observed | declared | since |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {e.drift.severity.value} | `{e.drift.code.value}` | `{e.drift.resource}` | {e.drift.observed} | "
        f"{e.drift.desired} at `{e.drift.declared_at}` | {e.first_seen:%Y-%m-%d %H:%M} |"
        for e in report.entries
    ]
    return "\n".join(lines) + "\n"

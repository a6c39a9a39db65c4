"""One observation pass: constant cost, detected tool flavours, failures that say so."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from reconciler.observe.node import (
    DRBD9_STATUS,
    IP_ADDR_JSON,
    IP_ADDR_TEXT,
    LVM_REPORT,
    XL_LIST,
    XM_LIST,
    observe_node,
)
from reconciler.observe.runner import READ, CommandResult, Outcome, ReplayRunner
from reconciler.observe.state import Observed, Section
from tests.observe.synthetic import DATA, FILES, SHARED, node_outputs


def replace(results: list[CommandResult], *new: CommandResult) -> list[CommandResult]:
    argvs = {r.argv for r in new}
    return [r for r in results if r.argv not in argvs] + list(new)


def without(results: list[CommandResult], argv: tuple[str, ...]) -> list[CommandResult]:
    return [r for r in results if r.argv != argv]


def ok(argv: tuple[str, ...], stdout: str) -> CommandResult:
    return CommandResult(argv=argv, outcome=Outcome.OK, returncode=0, stdout=stdout)


@pytest.mark.parametrize("apps", [1, 200])
def test_a_pass_runs_the_same_commands_for_1_and_200_applications(apps: int) -> None:
    runner = ReplayRunner(node_outputs(apps))
    observed = observe_node(runner)
    assert observed.errors == ()
    # One per tool: host probe, LVM report, /proc/drbd, DRBD 9 status, domain list, addresses, mounts.
    assert len(runner.calls) == 7
    assert len(observed.commands) == 7
    assert observed.lvm is not None and len(observed.lvm.vgs) == apps
    assert observed.drbd is not None and len(observed.drbd.resources) == apps
    assert observed.domains is not None and len(observed.domains.domains) == apps + 1  # and Domain-0
    assert observed.mounts is not None and observed.mount_at(f"/virt/app{apps - 1}") is not None
    assert observed.interfaces is not None
    assert sum(len(i.addresses) for i in observed.interfaces.interfaces) >= apps


def test_drbd_8_4_is_read_from_proc_without_running_drbdsetup() -> None:
    proc = (SHARED / "drbd" / "proc-drbd-84-mixed-states.txt").read_text()
    runner = ReplayRunner(replace(node_outputs(1), ok((READ, FILES.proc_drbd), proc)))
    observed = observe_node(runner)
    assert DRBD9_STATUS not in runner.calls
    assert observed.drbd is not None and observed.drbd.version == "8.4.2"
    assert [r.volumes[0].minor for r in observed.drbd.resources][:2] == [0, 1]


def test_drbd_8_0_and_8_3_use_their_own_parsers() -> None:
    for name, version in (
        ("proc-drbd-80-mixed-states.txt", "8.0.12"),
        ("proc-drbd-83-mixed-states.txt", "8.3.1"),
    ):
        proc = (SHARED / "drbd" / name).read_text()
        observed = observe_node(ReplayRunner(replace(node_outputs(1), ok((READ, FILES.proc_drbd), proc))))
        assert observed.drbd is not None and observed.drbd.version == version, observed.errors


def test_drbd_module_not_loaded_is_a_fact_not_an_error() -> None:
    observed = observe_node(ReplayRunner(without(node_outputs(1), (READ, FILES.proc_drbd))))
    assert observed.drbd is not None
    assert (observed.drbd.loaded, observed.drbd.resources) == (False, ())
    assert observed.errors == ()


def test_xm_is_used_where_xl_is_missing() -> None:
    xm = (SHARED / "xen" / "xm-list-man-example.txt").read_text()
    observed = observe_node(ReplayRunner([*without(node_outputs(1), XL_LIST), ok(XM_LIST, xm)]))
    assert observed.domains is not None and observed.domains.toolstack == "xm"
    assert "Domain-0" in [d.name for d in observed.domains.domains]


def test_no_toolstack_is_reported_not_an_empty_domain_list() -> None:
    observed = observe_node(ReplayRunner(without(node_outputs(1), XL_LIST)))
    assert observed.domains is None
    (error,) = observed.errors
    assert (error.section, error.message) == (Section.DOMAINS, "neither xl nor xm is installed")


def test_a_failing_tool_names_its_command_and_stderr_and_the_rest_is_still_observed() -> None:
    failed = CommandResult(
        argv=LVM_REPORT,
        outcome=Outcome.FAILED,
        returncode=5,
        stderr='  Volume group "virtvg" not found\n  Cannot process volume group virtvg\n',
    )
    observed = observe_node(ReplayRunner(replace(node_outputs(3), failed)))
    assert observed.lvm is None
    (error,) = observed.errors
    assert error.section is Section.LVM and error.returncode == 5
    assert error.command == " ".join(LVM_REPORT)
    assert "Cannot process volume group virtvg" in error.message
    assert observed.drbd is not None and len(observed.drbd.resources) == 3


def test_a_hanging_tool_is_reported_as_a_timeout() -> None:
    hung = CommandResult(argv=XL_LIST, outcome=Outcome.TIMEOUT, seconds=10.0)
    observed = observe_node(ReplayRunner(replace(node_outputs(1), hung)))
    (error,) = observed.errors
    assert error.outcome is Outcome.TIMEOUT and "timed out after 10.0s" in error.message


def test_output_that_does_not_parse_is_an_error_quoting_the_parser() -> None:
    observed = observe_node(ReplayRunner(replace(node_outputs(1), ok(DRBD9_STATUS, '[{"name": 5}]'))))
    (error,) = observed.errors
    assert (
        error.section is Section.DRBD
        and "not understood" in error.message
        and "drbd-status-json" in error.message
    )


def test_old_iproute2_without_json_falls_back_to_the_text_format() -> None:
    text = (DATA / "iproute2" / "ip-addr.txt").read_text()
    no_json = CommandResult(
        argv=IP_ADDR_JSON,
        outcome=Outcome.FAILED,
        returncode=255,
        stderr='Option "-j" is unknown, try "ip -help".',
    )
    observed = observe_node(ReplayRunner([*replace(node_outputs(1), no_json), ok(IP_ADDR_TEXT, text)]))
    assert observed.errors == ()
    assert observed.interfaces is not None and observed.interface("rcl0") is not None


def test_an_absent_section_without_its_error_is_refused() -> None:
    with pytest.raises(ValidationError, match="absent without an error"):
        Observed(node="n", taken_at=datetime.now(UTC))


def test_output_nested_deeper_than_any_tool_prints_costs_its_section_only() -> None:
    """A live tool output that would make a parser recurse past the stack is that section's
    failure, never the end of the observation (or of the agent that observes)."""
    from reconciler.observe.node import IP_ADDR_JSON
    from reconciler.observe.runner import CommandResult, Outcome, ReplayRunner
    from reconciler.observe.state import Section

    deep = "[" * 100_000 + "]" * 100_000
    runner = ReplayRunner([CommandResult(argv=IP_ADDR_JSON, outcome=Outcome.OK, returncode=0, stdout=deep)])
    observed = observe_node(runner)
    failed = {e.section: e for e in observed.errors}
    assert Section.INTERFACES in failed and "nest" in failed[Section.INTERFACES].message

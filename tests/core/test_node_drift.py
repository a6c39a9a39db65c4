"""The node's own addresses and interfaces are part of what `plan` and `drift` compare."""

from reconciler.core.reconcile import PassStatus
from tests.core.test_cases import CASES, load_case, run_case


def test_a_missing_node_address_is_drift_at_its_declaration() -> None:
    result, _ = run_case(load_case(CASES / "node-address-missing"))
    (missing,) = result.drift
    assert (missing.app, str(missing.resource)) == ("-", "ip:192.168.100.32/24")
    assert missing.declared_at.endswith("cluster.yaml:14")
    assert result.status is PassStatus.REQUEUE and not result.plan.actions


def test_a_converged_node_with_its_addresses_has_no_drift() -> None:
    result, _ = run_case(load_case(CASES / "converged-active-drbd9"))
    assert result.drift == [] and result.status is PassStatus.CONVERGED

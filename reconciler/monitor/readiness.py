"""Start readiness: report an application STARTED only once its guest answers.

`xm create` returns as soon as the domain exists, long before the guest has booted; the seed's
"future improvements" asked for a start that waits for ping or ssh before calling the application
usable. `wait_ready` polls the given checks until all pass at once or the deadline passes. The
clock and the sleep are injected, so a test runs the whole wait in no time and always the same way.
"""

from collections.abc import Callable, Sequence
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from reconciler.manifest.application import Readiness
from reconciler.monitor.checks import CheckContext, run_check
from reconciler.monitor.judge import CheckResult

Check = Callable[[], CheckResult]
DEFAULT_POLL = 2.0


class ReadyResult(BaseModel):
    """`last_failure` is the detail of the check that failed in the last attempt (None if ready)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ready: bool
    attempts: int
    waited: timedelta
    last_failure: str | None = None


def _first_failure(checks: Sequence[Check]) -> CheckResult | None:
    # In order, stopping at the first failure: a guest that does not answer ping will not accept a
    # TCP connection either, and each check may take its whole timeout.
    for check in checks:
        result = check()
        if not result.healthy:
            return result
    return None


def wait_ready(
    checks: Sequence[Check],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    poll: float = DEFAULT_POLL,
) -> ReadyResult:
    """Poll until every check passes, or `deadline` (a time on `clock`) has passed.

    There is always a first attempt, and a last one at the deadline: the wait before it is cut
    short to end there, so a guest that becomes ready just in time is not missed.
    """
    start = clock()
    attempts = 0
    while True:
        attempts += 1
        failure = _first_failure(checks)
        now = clock()
        if failure is None:
            return ReadyResult(ready=True, attempts=attempts, waited=timedelta(seconds=now - start))
        if now >= deadline:
            return ReadyResult(
                ready=False,
                attempts=attempts,
                waited=timedelta(seconds=now - start),
                last_failure=failure.detail,
            )
        sleep(min(poll, deadline - now))


def readiness_checks(readiness: Readiness | None, context: CheckContext) -> tuple[Check, ...]:
    """The check of an application's `start.readiness` (none declared: ready at once)."""
    if readiness is None:
        return ()
    return (lambda: run_check(readiness, context),)

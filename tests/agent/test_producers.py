"""The producers' edges: a request the loop does not answer in time is answered "busy"; the
`drbdsetup events2` reader wakes the loop on changes, and a missing tool is no failure."""

import sys

from reconciler.agent.control import Request, Response
from reconciler.agent.events import DrbdChanged, Event, OperatorRequest
from reconciler.agent.producers import Events2Reader, ask


def test_a_request_without_a_reply_in_time_is_answered_busy() -> None:
    queued: list[Event] = []
    response = ask(queued.append, Request(command="status"), wait=0.01)
    assert not response.ok and (response.error or "").startswith("agent busy:")
    assert isinstance(queued[0], OperatorRequest)


def test_a_reply_in_time_is_passed_on() -> None:
    def answer(event: Event) -> None:
        assert isinstance(event, OperatorRequest)
        event.reply.put(Response(ok=True, data={"node": "centos5s1"}))

    assert ask(answer, Request(command="placement")).data == {"node": "centos5s1"}


LINES = (
    "exists resource name:r0 role:Secondary suspended:no\n"
    "exists -\n"
    "change resource name:r0 role:Primary\n"
    "a line of a newer drbdsetup\n"
)


def test_events2_lines_wake_the_loop_but_not_each_line_of_the_snapshot() -> None:
    woken: list[Event] = []
    reader = Events2Reader(woken.append, [sys.executable, "-c", f"print({LINES!r}, end='')"])
    reader._read_once()
    assert [e.line for e in woken if isinstance(e, DrbdChanged)] == [
        "exists -",
        "change resource name:r0 role:Primary",
        "a line of a newer drbdsetup",
    ]


def test_a_missing_drbdsetup_is_not_a_failure() -> None:
    woken: list[Event] = []
    reader = Events2Reader(woken.append, ["/nonexistent/drbdsetup", "events2"])
    reader._read_once()  # returns: the loop backs off and tries again
    assert woken == []

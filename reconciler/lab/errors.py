"""The lab's errors: one base class, so the command line can report any of them in one line."""

from reconciler.observe.runner import CommandResult


class LabError(Exception):
    """Something the operator can act on: a missing lab, an unknown node, a failed `ip`."""


class CommandFailed(LabError):
    """A command the lab ran failed; the message quotes the command and its whole stderr."""

    def __init__(self, result: CommandResult) -> None:
        self.result = result
        message = result.describe()
        lines = result.stderr.strip().splitlines()
        # describe() quotes only the last stderr line; `ip` may explain itself on an earlier one.
        if len(lines) > 1:
            message += "\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(message)

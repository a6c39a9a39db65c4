"""linuxha.net's start and stop scripts, turned into argv lists, and the xm/xl commands among them.

linuxha.net ran `<startscript>` as a command line. A manifest holds argv lists that no shell ever
reads, so a line is split with shlex, and a line that only a shell would read the same way
(pipes, redirections, `$VAR`, globs, `;`, comments, `VAR=value cmd`) is refused rather than split
into something that means another thing.
"""

import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

# Characters with a meaning to sh. Refused even when quoted: a false refusal costs the operator
# one hand-written argv list, a wrong split would run another command than the one they had.
SHELL_CHARACTERS = frozenset("|&;<>()$`*?[]{}~#\\!\n\r")
XEN_TOOLSTACKS = ("xm", "xl")
_CREATE_FILE_OPTIONS = ("-f", "--defconfig")


@dataclass(frozen=True)
class Script:
    """A command line split into argv, or why it cannot be."""

    argv: tuple[str, ...] | None
    problem: str | None = None


def split_script(text: str) -> Script:
    shell = sorted({c for c in text if c in SHELL_CHARACTERS})
    if shell:
        shown = " ".join(repr(c) for c in shell)
        return Script(None, f"it needs a shell ({shown}); write it as a script and give its path")
    try:
        argv = tuple(shlex.split(text))
    except ValueError as err:
        return Script(None, f"it cannot be split into words: {err}")
    if not argv:
        return Script(None, "it is empty")
    if "=" in argv[0]:
        return Script(None, f"{argv[0]!r} sets a variable for a shell; write it as a script")
    return Script(argv)


@dataclass(frozen=True)
class XenCommand:
    """`xm create apache`, `xl shutdown -w apache`: toolstack, verb and target, and whatever else
    the line held that a toolstack domain does not carry over (`extra`)."""

    toolstack: str
    verb: str
    target: str
    waits: bool
    extra: tuple[str, ...]


def _create_args(args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """The config file of `create [options] FILE [key=value...]`, and the rest."""
    target: str | None = None
    extra: list[str] = []
    words = iter(args)
    for word in words:
        name, equals, value = word.partition("=")
        if word in _CREATE_FILE_OPTIONS:
            target = next(words, None)
        elif equals and name in _CREATE_FILE_OPTIONS:
            target = value
        elif word.startswith("-") or equals or target is not None:
            extra.append(word)
        else:
            target = word
    return target, extra


def _stop_args(args: tuple[str, ...]) -> tuple[str | None, bool, list[str]]:
    """The domain of `shutdown|destroy [-w] NAME`, whether it waits, and the rest."""
    target: str | None = None
    waits = False
    extra: list[str] = []
    for word in args:
        if word in ("-w", "--wait"):
            waits = True
        elif word.startswith("-") or target is not None:
            extra.append(word)
        else:
            target = word
    return target, waits, extra


def xen_command(argv: tuple[str, ...]) -> XenCommand | None:
    """The xm/xl command `argv` runs, or None when it is anything else."""
    program = PurePosixPath(argv[0]).name
    if program not in XEN_TOOLSTACKS or len(argv) < 3:
        return None
    verb, args = argv[1], argv[2:]
    if verb == "create":
        target, extra = _create_args(args)
        waits = False
    elif verb in ("shutdown", "destroy"):
        target, waits, extra = _stop_args(args)
    else:
        return None
    if target is None:
        return None
    return XenCommand(program, verb, target, waits, tuple(extra))

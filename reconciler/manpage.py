"""Man pages from the command line's own help: `python -m reconciler.manpage --out DIR`.

One page per program: reconciler.1 (every subcommand, nested groups included, as a subsection of
COMMANDS) and clstat.1, clstartapp.1, clhaltapp.1, clbuildapp.1. The text is click's: the same
docstrings, usage lines and option help that `--help` prints, written as roff. The page date is
$SOURCE_DATE_EPOCH's (set by dpkg-buildpackage from debian/changelog) so that builds are reproducible.
"""

import argparse
import inspect
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler import __version__

SEE_ALSO = ("reconciler", "clstat", "clstartapp", "clhaltapp", "clbuildapp")

FILES = (
    ("/etc/reconciler/manifests", "The manifests the agent and the commands read by default."),
    ("/etc/default/reconciler", "The agent's environment (reconciler-agent.service reads it)."),
    ("/lib/systemd/system/reconciler-agent.service", "The agent's systemd unit."),
)

ENVIRONMENT = (
    ("RECONCILER_MANIFESTS", "The manifest file or directory when PATH is not given."),
    ("RECONCILER_STATE_DIR", "The state directory, instead of the Cluster's spec.stateDir."),
)


def programs() -> dict[str, click.Command]:
    """Each installed program's name and its click command."""
    from reconciler.cli import main  # noqa: PLC0415 - the CLI imports every command; only load it here
    from reconciler.linuxha import commands  # noqa: PLC0415

    return {
        "reconciler": main,
        "clstat": commands.clstat,
        "clstartapp": commands.clstartapp,
        "clhaltapp": commands.clhaltapp,
        "clbuildapp": commands.clbuildapp,
    }


def escape(text: str) -> str:
    """Text safe in a roff line: backslashes and hyphens escaped, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def bold(text: str) -> str:
    return f"\\fB{escape(text)}\\fR"


def option_name(name: str) -> str:
    """`--output FILE` as roff: the option in bold, its metavar in italics."""
    option, _, metavar = name.partition(" ")
    return bold(option) + (f" \\fI{escape(metavar)}\\fR" if metavar else "")


def paragraphs(help_text: str) -> list[str]:
    """click's help as roff: blank lines separate paragraphs; `\\b` paragraphs and indented lines keep
    their line breaks; `\\f` ends what the help shows."""
    text = inspect.cleandoc(help_text.split("\f", 1)[0])
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        if lines[0].strip() == "\b":
            out.append(".nf\n" + escape("\n".join(lines[1:])) + "\n.fi")
        elif any(line.startswith((" ", "\t")) for line in lines):
            out.append(".nf\n" + escape(block) + "\n.fi")
        else:
            out.append(escape(" ".join(line.strip() for line in lines)))
    return out


def help_text(command: click.Command) -> str:
    return command.help or command.short_help or ""


def summary(command: click.Command) -> str:
    first = paragraphs(help_text(command))
    return command.short_help or (first[0].split(". ")[0].rstrip(".") if first else "")


def usage(command: click.Command, ctx: click.Context) -> str:
    return " ".join(command.collect_usage_pieces(ctx))


def options(command: click.Command, ctx: click.Context, with_help: bool = True) -> list[str]:
    """The options as a tagged list; arguments are in the usage line, `--help` only on the page's own."""
    lines: list[str] = []
    help_option = command.get_help_option(ctx)
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or (param is help_option and not with_help):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, text = record
        lines += [".TP", ", ".join(option_name(name) for name in names.split(", ")), escape(text or "")]
    return lines


def walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command, click.Context]]:
    """Every visible subcommand under a group, depth first, in the order `--help` lists them."""
    if not isinstance(command, click.Group):
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        sub_ctx = click.Context(sub, info_name=name, parent=ctx)
        yield sub, sub_ctx
        yield from walk(sub, sub_ctx)


def page_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.strftime("%Y-%m-%d")


def render(prog: str, command: click.Command, date: str | None = None) -> str:
    """The roff source of PROG's page, section 1."""
    ctx = click.Context(command, info_name=prog)
    lines = [
        f'.TH {prog.upper()} 1 "{date or page_date()}" "reconciler {__version__}" "User Commands"',
        ".SH NAME",
        f"{escape(prog)} \\- {summary(command)}",
        ".SH SYNOPSIS",
        f"{bold(prog)} {escape(usage(command, ctx))}",
        ".SH DESCRIPTION",
    ]
    for index, paragraph in enumerate(paragraphs(help_text(command))):
        lines += ([".PP"] if index else []) + [paragraph]
    own = options(command, ctx)
    if own:
        lines += [".SH OPTIONS", *own]
    subcommands = list(walk(command, ctx))
    if subcommands:
        lines += [".SH COMMANDS"]
        for sub, sub_ctx in subcommands:
            path = sub_ctx.command_path
            lines += [f'.SS "{escape(path)}"', f"{bold(path)} {escape(usage(sub, sub_ctx))}"]
            for paragraph in paragraphs(help_text(sub)):
                lines += [".PP", paragraph]
            own = options(sub, sub_ctx, with_help=False)
            lines += [".PP", *own] if own else []
    lines += [".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        lines += [".TP", bold(name), escape(text)]
    lines += [".SH FILES"]
    for name, text in FILES:
        lines += [".TP", f"\\fI{escape(name)}\\fR", escape(text)]
    lines += [
        ".SH SEE ALSO",
        ", ".join(f"{bold(other)}(1)" for other in SEE_ALSO if other != prog)
        + ", "
        + f"{bold('systemctl')}(1); /usr/share/doc/reconciler/",
    ]
    return "\n".join(lines) + "\n"


def write_pages(out: Path, date: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for prog, command in programs().items():
        path = out / f"{prog}.1"
        path.write_text(render(prog, command, date), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reconciler.manpage", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/man"), help="directory for the pages")
    args = parser.parse_args(argv)
    for path in write_pages(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

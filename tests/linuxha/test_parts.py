"""The pieces of the import on their own: scripts, Xen config merging, options."""

from pathlib import Path

import pytest

from reconciler.linuxha.report import Kind, LinuxhaError, Report
from reconciler.linuxha.scripts import split_script, xen_command
from reconciler.linuxha.storage import LvOption
from reconciler.linuxha.xenconfigs import merge_configs, read_node_config


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("/usr/sbin/xm create apache", ("/usr/sbin/xm", "create", "apache")),
        ("/opt/app/start 'two words' \"and more\"", ("/opt/app/start", "two words", "and more")),
    ],
)
def test_scripts_split_into_argv(line: str, argv: tuple[str, ...]) -> None:
    assert split_script(line).argv == argv


@pytest.mark.parametrize(
    "line",
    [
        "/etc/init.d/app stop; sleep 5",
        "/bin/app > /var/log/app.log",
        "/bin/app $HOME",
        "/bin/app `id`",
        "/bin/app *.conf",
        "LANG=C /bin/app",
        "/bin/app 'unclosed",
        "   ",
    ],
)
def test_what_needs_a_shell_is_refused_not_split(line: str) -> None:
    script = split_script(line)
    assert script.argv is None and script.problem


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("xm", "create", "apache"), ("xm", "create", "apache", False, ())),
        (("/usr/sbin/xl", "create", "-f", "/etc/xen/a.cfg"), ("xl", "create", "/etc/xen/a.cfg", False, ())),
        (("xm", "create", "-c", "apache", "vcpus=2"), ("xm", "create", "apache", False, ("-c", "vcpus=2"))),
        (("xm", "shutdown", "-w", "apache"), ("xm", "shutdown", "apache", True, ())),
        (("xl", "destroy", "apache"), ("xl", "destroy", "apache", False, ())),
    ],
)
def test_xen_commands(argv: tuple[str, ...], expected: tuple[object, ...]) -> None:
    command = xen_command(argv)
    assert command is not None
    assert (command.toolstack, command.verb, command.target, command.waits, command.extra) == expected


@pytest.mark.parametrize(
    "argv",
    [("xm", "list"), ("xm", "create"), ("/usr/bin/virsh", "start", "apache"), ("/opt/xm-wrapper", "x")],
)
def test_other_commands_are_not_xen_commands(argv: tuple[str, ...]) -> None:
    assert xen_command(argv) is None


def test_merge_keeps_one_name_and_converts_what_fits(tmp_path: Path) -> None:
    report = Report()
    text = 'name = "{}"\nacpi = True\nshadow = 1.5\n'
    one = read_node_config("n1", _write(tmp_path, "n1", text.format("a")), "n1.cfg", report)
    two = read_node_config("n2", _write(tmp_path, "n2", text.format("b")), "n2.cfg", report)
    merged = merge_configs([one, two], ["n1", "n2"], report)
    assert merged.base == {"name": "a", "acpi": 1}
    assert merged.overrides == {}
    kinds = {(f.source.file if f.source else None, f.what, f.kind) for f in report.findings}
    assert ("n2.cfg", "name = 'b'", Kind.NOT_CARRIED) in kinds
    assert ("n1.cfg", "shadow = 1.5", Kind.NOT_CARRIED) in kinds
    assert ("n1.cfg", "acpi = True", Kind.GUESSED) in kinds


def test_a_node_without_a_config_gets_the_base_and_is_reported(tmp_path: Path) -> None:
    report = Report()
    one = read_node_config(
        "n1", _write(tmp_path, "n1", 'name = "a"\nextra = "x"\nextra += "y"\n'), "n1", report
    )
    merged = merge_configs([one], ["n1", "n2"], report)
    assert merged.base == {"name": "a", "extra": "xy"}
    assert [f.what for f in report.findings if f.kind is Kind.GUESSED] == ["domain config of node n2"]


def test_a_config_that_is_not_literal_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "n1", 'name = "a"\nimport os\n')
    with pytest.raises(LinuxhaError) as raised:
        read_node_config("n1", path, "n1.cfg", Report())
    assert (raised.value.file, raised.value.line) == ("n1.cfg", 2)


def _write(tmp_path: Path, node: str, text: str) -> Path:
    path = tmp_path / f"{node}.cfg"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("lv01:8G:/virt:ext3", LvOption("lv01", "8G", "/virt", "ext3")),
        ("lv01:8G", LvOption("lv01", "8G")),
        ("lv01::/virt", LvOption("lv01", None, "/virt")),
    ],
)
def test_lv_option(text: str, parsed: LvOption) -> None:
    assert LvOption.parse(text) == parsed


@pytest.mark.parametrize("text", ["", ":8G", "a:b:c:d:e"])
def test_bad_lv_option(text: str) -> None:
    with pytest.raises(ValueError, match="NAME:SIZE"):
        LvOption.parse(text)


def test_no_input_value_can_reach_a_shell_or_be_executed() -> None:
    """The import reads and writes files only: nothing in it starts a process or evaluates text."""
    package = Path(__file__).resolve().parents[2] / "reconciler" / "linuxha"
    source = "\n".join(p.read_text() for p in package.glob("*.py"))
    for forbidden in ("subprocess", "os.system", "os.popen", "eval(", "exec(", "shell=True"):
        assert forbidden not in source, forbidden

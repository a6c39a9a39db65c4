"""The output-path policy (reconciler/outputs.py, docs/limits.md): a device, a FIFO or a symbolic
link given as an output is never replaced; `-` is standard output; a missing directory is a
clean error. Every special file here is made in tmp_path: never a real device or system path.
"""

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.outputs import OutputError, write_output
from reconciler.render.files import NotRegularFileError, write_atomically
from tests.hostile.corpus import IMPORT_ARGS, LINUXHA, MANIFESTS

ROOT = os.geteuid() == 0


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A character device of our own with /dev/null's numbers (1, 3): writes to it are discarded."""
    assert ROOT, "making a device node needs root (CI runs as root)"
    path = tmp_path / "null"
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return path


def _is_chr(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


def test_a_new_file_is_written(tmp_path: Path) -> None:
    write_output(tmp_path / "plan.json", "{}\n")
    assert (tmp_path / "plan.json").read_text() == "{}\n"
    assert stat.S_IMODE((tmp_path / "plan.json").stat().st_mode) == 0o644


def test_a_regular_file_is_replaced_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    target.chmod(0o600)
    write_output(target, b"new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_character_device_is_written_into_never_replaced(null_device: Path) -> None:
    write_output(null_device, "discarded\n")
    assert _is_chr(null_device)


def test_a_fifo_is_written_into(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader is there; the data fits the pipe
    try:
        write_output(fifo, "through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_without_reader_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="no reader"):
        write_output(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symbolic_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        write_output(link, "clobber")
    assert link.is_symlink() and target.read_text() == "keep me"


def test_a_dangling_symbolic_link_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="symbolic link"):
        write_output(link, "x")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("make", ["directory", "socket"])
def test_a_directory_or_socket_is_refused(tmp_path: Path, make: str) -> None:
    path = tmp_path / "thing"
    if make == "directory":
        path.mkdir()
    else:
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    with pytest.raises(OutputError):
        write_output(path, "x")


def test_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_output(tmp_path / "no" / "plan.json", "x")


def test_dash_is_standard_output(capfd: pytest.CaptureFixture[str]) -> None:
    write_output(Path("-"), "to stdout\n")
    assert capfd.readouterr().out == "to stdout\n"


def test_generated_files_never_replace_a_device(null_device: Path) -> None:
    with pytest.raises(NotRegularFileError):
        write_atomically(null_device, "x")
    assert _is_chr(null_device)


def test_generated_files_never_replace_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "r0.res"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError):
        write_atomically(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# ---------------------------------------------------------------- through the commands


def _import_files(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "appconf.xml").write_bytes((LINUXHA / "appconf-xapache.xml").read_bytes())
    (tmp_path / "app" / "lems.local.xml").write_bytes((LINUXHA / "lems.local-xapache.xml").read_bytes())
    (tmp_path / "x1.cfg").write_bytes((LINUXHA / "xen-apache-centos5s1.cfg").read_bytes())
    (tmp_path / "x2.cfg").write_bytes((LINUXHA / "xen-apache-centos5s2.cfg").read_bytes())
    (tmp_path / "cluster.yaml").write_bytes((MANIFESTS / "cluster.yaml").read_bytes())


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, list(argv))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_import_into_a_device_keeps_the_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, null_device: Path
) -> None:
    _import_files(tmp_path)
    code, _ = _run(tmp_path, monkeypatch, *IMPORT_ARGS, "-o", str(null_device))
    assert code == 0 and _is_chr(null_device)


def test_import_into_a_symbolic_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _import_files(tmp_path)
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "target")
    code, output = _run(tmp_path, monkeypatch, *IMPORT_ARGS, "-o", "link.yaml")
    assert code == 1 and "symbolic link" in output
    assert (tmp_path / "target").read_text() == "keep" and (tmp_path / "link.yaml").is_symlink()


def test_import_to_dash_writes_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _import_files(tmp_path)
    code, output = _run(tmp_path, monkeypatch, *IMPORT_ARGS, "-o", "-")
    assert code == 0 and "kind: Application" in output


@pytest.mark.parametrize("option", [["capture", "-o"], ["import", "linuxha", "--app", "app", "-o"]])
def test_an_output_in_a_missing_directory_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: list[str]
) -> None:
    code, output = _run(tmp_path, monkeypatch, *option, "no/such/out")
    assert code == 1 and "does not exist" in output


def test_capture_into_a_symbolic_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    code, output = _run(tmp_path, monkeypatch, "capture", "-o", "link")
    assert code == 1 and "symbolic link" in output and not (tmp_path / "elsewhere").exists()


def test_schema_into_a_missing_parent_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _run(tmp_path, monkeypatch, "schema", "--out", "no/such")
    assert code == 1 and "does not exist" in output


def test_schema_never_replaces_a_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, null_device: Path
) -> None:
    out = tmp_path / "schemas"
    out.mkdir()
    os.rename(null_device, out / "plan.schema.json")
    code, _ = _run(tmp_path, monkeypatch, "schema", "--out", "schemas")
    assert code == 0 and _is_chr(out / "plan.schema.json")


def test_plan_out_follows_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tests.hostile.corpus import good_bundle_members, tar_gz

    index, members = good_bundle_members()
    (tmp_path / "b.tar.gz").write_bytes(tar_gz({"bundle.json": json.dumps(index).encode(), **members}))
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link.json").symlink_to(tmp_path / "target")
    plan = ["plan", str(MANIFESTS), "--observed", "b.tar.gz", "--node", "centos5s1"]
    plan += ["--active", "xapache=centos5s1"]
    code, output = _run(tmp_path, monkeypatch, *plan, "--out", "link.json")
    assert code == 1 and "symbolic link" in output and (tmp_path / "target").read_text() == "keep"
    code, _ = _run(tmp_path, monkeypatch, *plan, "--out", "plan.json")
    assert code in (0, 2) and json.loads((tmp_path / "plan.json").read_text())

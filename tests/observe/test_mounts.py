from typing import Any

import pytest

from reconciler.observe import mounts
from reconciler.observe.errors import ParseError
from reconciler.observe.facts import Unrecognised
from reconciler.observe.mounts import MountTable, parse_mountinfo, unescape
from tests.observe.cases import PROJECT_DATA, assert_subset, fixture_path, load_cases

CASES = load_cases("mounts")


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any]) -> None:
    model = mounts.KINDS[case["kind"]](fixture_path(case["fixture"]).read_text())
    assert_subset(case["expect"], model.model_dump(mode="json"))


def test_every_capture_has_a_case() -> None:
    # There is no public mountinfo capture: the captures of tests/data/mounts are the cases.
    covered = {case["fixture"] for _, case in CASES}
    files = {f"data:mounts/{p.name}" for p in (PROJECT_DATA / "mounts").glob("*.txt")}
    assert files
    assert files - covered == set()


def test_proc5_example_with_propagation_fields() -> None:
    line = (
        "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 propagate_from:2"
        " - ext3 /dev/root rw,errors=continue"
    )
    mount = parse_mountinfo(line).mounts[0]
    assert (mount.mount_id, mount.parent_id, mount.major, mount.minor) == (36, 35, 98, 0)
    assert (mount.root, mount.mount_point, mount.options) == ("/mnt1", "/mnt2", ("rw", "noatime"))
    assert (mount.master, mount.shared, mount.propagate_from, mount.unbindable) == (1, 7, 2, False)
    assert (mount.fstype, mount.source) == ("ext3", "/dev/root")
    assert mount.super_options == ("rw", "errors=continue")


def test_escapes_are_decoded_after_splitting_options() -> None:
    line = (
        r"50 27 0:45 /a\011b /srv/x\040y\012z rw,relatime unbindable - fuse.sshfs "
        r"me@host:/d\134e rw,user_id=0,opt=a\054b,name=caf\303\251"
    )
    mount = parse_mountinfo(line).mounts[0]
    assert mount.root == "/a\tb"
    assert mount.mount_point == "/srv/x y\nz"
    assert mount.source == "me@host:/d\\e"
    assert mount.fstype == "fuse.sshfs"
    assert mount.super_options == ("rw", "user_id=0", "opt=a,b", "name=café")
    assert mount.unbindable is True


def test_unescape_leaves_plain_text_and_utf8_alone() -> None:
    assert unescape("/srv/données") == "/srv/données"
    assert unescape(r"/a\\b") == r"/a\\b"  # not an octal escape


def test_unknown_optional_field_is_surfaced_not_fatal() -> None:
    text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n23 27 0:22 / /sys rw shiny:3 - sysfs sysfs rw\n"
    model = parse_mountinfo(text)
    assert [m.mount_point for m in model.mounts] == ["/proc", "/sys"]
    assert model.unrecognised == (Unrecognised(line=2, field="optional_fields", value="shiny:3"),)


@pytest.mark.parametrize("text", ["", "\n"])
def test_empty_table_is_absent_not_an_error(text: str) -> None:
    assert parse_mountinfo(text) == MountTable(mounts=())


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("22 27 0:21 / /proc rw,relatime proc proc rw\n", 1),  # no separator
        ("22 27 0:21 / /proc rw - proc proc rw\n23 27 0:22 / /sys rw - sysfs sysfs\n", 2),  # truncated
        ("22 27 0:21 / /proc rw - proc proc rw extra\n", 1),
        ("22 27 021 / /proc rw - proc proc rw\n", 1),  # device without colon
        ("x 27 0:21 / /proc rw - proc proc rw\n", 1),
        ("22 27 0:21 / /with space rw - tmpfs tmpfs rw\n", 1),  # an unescaped space shifts fields
        ("/dev/vda / ext4 rw,relatime 0 0\n", 1),  # /proc/mounts, not mountinfo
    ],
)
def test_garbage_raises_with_the_line(text: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_mountinfo(text)
    assert info.value.line == line
    assert info.value.kind == "mountinfo"
    assert info.value.text == text.splitlines()[line - 1]


def test_kinds() -> None:
    assert set(mounts.KINDS) == {"mountinfo"}

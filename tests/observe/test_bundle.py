"""capture -> bundle -> --observed: a node replayed elsewhere observes exactly the same."""

import io
import json
import tarfile
from pathlib import Path

import pytest

from reconciler.observe.bundle import BundleError, capture, read_bundle, replay, write_bundle
from reconciler.observe.node import HostFiles, observe_node
from reconciler.observe.runner import ReplayRunner, SubprocessRunner
from tests.observe.synthetic import node_outputs


def test_round_trip_of_a_recorded_node(tmp_path: Path) -> None:
    observed, bundle = capture(ReplayRunner(node_outputs(5)), HostFiles())
    write_bundle(bundle, tmp_path / "b.tar.gz")
    again = read_bundle(tmp_path / "b.tar.gz")
    assert again == bundle
    assert replay(again) == observed


def test_round_trip_of_this_machine(tmp_path: Path) -> None:
    """Real commands on the machine the tests run on, whatever it has (failures included)."""
    observed, bundle = capture(SubprocessRunner(), HostFiles())
    write_bundle(bundle, tmp_path / "real.tar.gz")
    replayed = replay(read_bundle(tmp_path / "real.tar.gz"))
    assert replayed == observed
    assert any(v.argv == ("uname", "-a") for v in bundle.versions)


def test_bundle_holds_the_raw_outputs_readably(tmp_path: Path) -> None:
    _, bundle = capture(ReplayRunner(node_outputs(2)), HostFiles())
    write_bundle(bundle, tmp_path / "b.tar.gz")
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        index = json.loads(tar.extractfile("bundle.json").read())  # type: ignore[union-attr]
        lvm = next(e for e in index["results"] if e["argv"][:2] == ["lvm", "fullreport"])
        assert '"report"' in tar.extractfile(lvm["stdout"]).read().decode()  # type: ignore[union-attr]
    assert index["node"] == "node1" and index["format"] == 1


def test_replay_of_a_node_observation_is_deterministic() -> None:
    results = node_outputs(3)
    assert observe_node(ReplayRunner(results)).model_dump(exclude={"taken_at"}) == observe_node(
        ReplayRunner(results)
    ).model_dump(exclude={"taken_at"})


@pytest.mark.parametrize("content", [b"not a tarball", b""])
def test_a_broken_bundle_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.tar.gz").write_bytes(content)
    with pytest.raises(BundleError, match="not a readable observation bundle"):
        read_bundle(tmp_path / "x.tar.gz")


def test_a_bundle_member_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.tar.gz"
    index = {
        "format": 1,
        "node": "n",
        "taken_at": "2026-01-01T00:00:00Z",
        "reconciler_version": "0",
        "files": {},
        "versions": [],
        "results": [{"argv": ["x"], "outcome": "ok", "stdout": "link", "stderr": "link"}],
    }
    with tarfile.open(path, "w:gz") as tar:
        data = json.dumps(index).encode()
        info = tarfile.TarInfo("bundle.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)
    with pytest.raises(BundleError, match="not a regular file"):
        read_bundle(path)

"""drbd-utils' own parser as the judge of every generated resource file.

`drbdadm dump` parses a configuration and prints it back; it needs no kernel module. Three
switches make it usable in a test:
- `__DRBD_NODE__=NAME` makes drbdadm read the file as the node NAME would (instead of `uname -n`).
- `DRBD_DRIVER_VERSION_OVERRIDE=8.4.11` (or 9.x) picks the parser: drbdadm normally asks
  /proc/drbd or `modinfo -F version drbd` which DRBD the kernel has, and on an 8.4 kernel
  re-executes itself as /usr/lib/drbd/drbdadm-84, the 8.4 parser. Without the override the choice
  would depend on the test machine's kernel modules, so it is always set.
- `-c CONF`: CONF is a drbd.conf of a `global` section and `include "FILE";`, as /etc/drbd.conf
  includes /etc/drbd.d/*.res. The global section sets `disable-ip-verification` (this machine
  does not own the nodes' addresses, and drbdadm refuses a file whose own address is missing
  here) and `usage-count no`. Not `-t FILE` (--config-to-test): drbd-utils 9.22 then goes on
  counting lines from the end of CONF, and the line numbers of its errors are off.
A missing drbdadm is a test failure, never a skip: scripts/install-system-deps installs it.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.render.drbd import DrbdFlavour

PARSER_VERSION = {DrbdFlavour.V83: "8.3.16", DrbdFlavour.V84: "8.4.11", DrbdFlavour.V9: "9.2.0"}
# What `drbdadm -V` reports as DRBDADM_API_VERSION: 88 for drbdadm-83, 1 for drbdadm-84, 2 for 9.
API_VERSION = {DrbdFlavour.V83: "88", DrbdFlavour.V84: "1", DrbdFlavour.V9: "2"}
GLOBAL_SECTION = "global {\n    usage-count no;\n    disable-ip-verification;\n}\n"
E_CONFIG_INVALID = 10  # drbdadm's exit code for a configuration it cannot parse or accept


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"{' '.join(self.argv)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def drbdadm_path() -> str:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which("drbdadm", path=search)
    if found is None:
        pytest.fail("drbdadm not found: install drbd-utils (scripts/install-system-deps does)")
    return found


def _environment(flavour: DrbdFlavour, node: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "LC_ALL": "C",
        "DRBD_DRIVER_VERSION_OVERRIDE": PARSER_VERSION[flavour],
    }
    if node is not None:
        env["__DRBD_NODE__"] = node
    return env


def _run(argv: list[str], env: dict[str, str]) -> Result:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    return Result(argv, done.returncode, done.stdout, done.stderr)


def api_version(flavour: DrbdFlavour) -> str:
    """DRBDADM_API_VERSION of the parser that the override selects."""
    result = _run([drbdadm_path(), "-V"], _environment(flavour, None))
    assert result.returncode == 0, result.explain()
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return values["DRBDADM_API_VERSION"]


def dump(res_file: Path, resource: str, node: str, flavour: DrbdFlavour) -> Result:
    """`drbdadm -c CONF dump RESOURCE` as `node`, with the `flavour` parser."""
    return _dump([res_file], resource, node, flavour)


def dump_all(res_files: Sequence[Path], node: str, flavour: DrbdFlavour) -> Result:
    """`drbdadm -c CONF dump all` over several files: drbdadm then also checks that no two
    resources share a device minor or an address and port."""
    return _dump(res_files, "all", node, flavour)


def _dump(res_files: Sequence[Path], resource: str, node: str, flavour: DrbdFlavour) -> Result:
    for res_file in res_files:  # paths go into CONF as double-quoted strings
        assert res_file.is_absolute() and not set(str(res_file)) & set('"\\\n')
    includes = "".join(f'include "{res_file}";\n' for res_file in res_files)
    with tempfile.TemporaryDirectory(prefix="drbdadm-check-") as workdir:
        conf = Path(workdir) / "drbd.conf"  # never beside a res file: it may be a captured fixture
        conf.write_text(GLOBAL_SECTION + includes)
        argv = [drbdadm_path(), "-c", str(conf), "dump", resource]
        return _run(argv, _environment(flavour, node))

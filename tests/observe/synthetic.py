"""A node's raw tool outputs for N applications, scaled up from real captures.

Each output is a real capture with its one application-shaped item copied N times under new names,
so the formats stay exactly those the tools print. Used by the command-count test and by
bench/observe.py.
"""

import copy
import json
from pathlib import Path

from reconciler.observe.host import PROBE, HostLoad
from reconciler.observe.node import DRBD9_STATUS, IP_ADDR_JSON, LVM_REPORT, XL_LIST, HostFiles
from reconciler.observe.runner import READ, CommandResult, Outcome

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / "tests" / "fixtures"
DATA = REPO / "tests" / "data"
FILES = HostFiles()
HOST = HostLoad(
    node="node1",
    cpu_count=2,
    load1=0.5,
    load5=0.4,
    load15=0.3,
    memory_total=8 * 2**30,
    memory_available=6 * 2**30,
    memory_percent=25.0,
    swap_total=2**30,
    swap_used=0,
    swap_percent=0.0,
    boot_time=1.7e9,
)


def lvm_fullreport(n: int) -> str:
    real = json.loads((DATA / "lvm" / "lvm-fullreport-json-units-b.json").read_text())
    entry = real["report"][0]
    report = []
    for i in range(n):
        vg = copy.deepcopy(entry)
        for group in ("vg", "pv", "lv", "seg", "pvseg"):
            for item in vg.get(group, []):
                if "vg_name" in item:
                    item["vg_name"] = f"vg{i}"
                if "pv_name" in item:
                    item["pv_name"] = f"/dev/sdx{i}-{item['pv_name'].rsplit('/', 1)[-1]}"
        report.append(vg)
    return json.dumps({"report": report}, indent=2)


def drbd_status_json(n: int) -> str:
    (resource,) = json.loads((SHARED / "drbd" / "drbdsetup-status-json-primary-one-peer.json").read_text())
    resources = []
    for i in range(n):
        r = copy.deepcopy(resource)
        r["name"] = f"app{i}-lv01"
        r["devices"][0]["minor"] = i
        resources.append(r)
    return json.dumps(resources, indent=2)


def xl_list(n: int) -> str:
    lines = [
        "Name                                        ID   Mem VCPUs\tState\tTime(s)",
        "Domain-0                                     0  1024     2     r-----     123.4",
    ]
    lines += [f"dom{i:<41} {i + 1:>2}   512     1     -b----      12.{i % 10}" for i in range(n)]
    return "\n".join(lines) + "\n"


def ip_addr_json(n: int) -> str:
    interfaces = json.loads((DATA / "iproute2" / "ip-j-addr.json").read_text())
    iface = next(i for i in interfaces if any(a.get("family") == "inet" for a in i.get("addr_info", [])))
    template = next(a for a in iface["addr_info"] if a["family"] == "inet")
    for i in range(n):
        extra = dict(template, local=f"10.{100 + i // 250}.{i % 250}.1", prefixlen=24, secondary=True)
        extra.pop("broadcast", None)
        iface["addr_info"].append(extra)
    return json.dumps(interfaces)


def mountinfo(n: int) -> str:
    lines = (DATA / "mounts" / "mountinfo-host.txt").read_text().splitlines()
    lines += [f"{1000 + i} 27 147:{i} / /virt/app{i} rw,relatime - ext3 /dev/drbd{i} rw" for i in range(n)]
    return "\n".join(lines) + "\n"


def node_outputs(n: int, proc_drbd: str = "version: 9.2.8 (api:2/proto:86-122)\n") -> list[CommandResult]:
    """Everything one pass reads on a DRBD 9 / xl node running `n` applications."""

    def ok(argv: tuple[str, ...], stdout: str) -> CommandResult:
        return CommandResult(argv=argv, outcome=Outcome.OK, returncode=0, stdout=stdout)

    return [
        ok((PROBE,), HOST.model_dump_json()),
        ok(LVM_REPORT, lvm_fullreport(n)),
        ok((READ, FILES.proc_drbd), proc_drbd),
        ok(DRBD9_STATUS, drbd_status_json(n)),
        ok(XL_LIST, xl_list(n)),
        ok(IP_ADDR_JSON, ip_addr_json(n)),
        ok((READ, FILES.mountinfo), mountinfo(n)),
    ]

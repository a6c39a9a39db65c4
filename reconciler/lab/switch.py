"""The lab's switch: a namespace with one bridge per network, where partitions and bad links are made.

A node's interface is plugged into a switch port (network.py). What breaks a network is done at
the switch, never on a node, so that a node keeps its carrier as it would in a rack:
- a partition of a network stops its ports forwarding (`bridge link set ... state disabled`):
  neither node hears the other on it, both still have carrier;
- a one-way cut (`lab partition --from NODE`) drops at the switch what NODE sends on the network
  (an nftables rule on the bridge, on NODE's port). Address resolution (ARP, IPv6 neighbour
  discovery) still passes: without it no unicast could flow either way, and the peer could not
  even send to NODE; so the peer hears NODE no more while NODE still hears the peer;
- a bad link (`lab fault net NODE --loss --delay --jitter`) acts on what the switch delivers to
  NODE: loss is an nftables rule (random drop) on the port toward NODE, delay and jitter a netem
  queue on that port, where the kernel has netem (CONFIG_NET_SCH_NETEM; it is not everywhere).

The nftables rules are made whole from the inventory's state each time (`ruleset`) and replace
the switch's table in one transaction; they name ports, so they hold for a node's new ports
after a power cycle.
"""

import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from reconciler.lab.errors import CommandFailed, LabError
from reconciler.lab.network import EndPlan, LinkPlan, NetworkPlan, create_bridge, ip
from reconciler.observe.runner import Runner

TABLE = "reconciler_lab"
RULES_FILE = "switch.nft"  # in the lab's directory: the rules last loaded
TC_TIMEOUT = 10.0
FORWARDING, DISABLED = "3", "0"  # bridge port states (BR_STATE_FORWARDING, BR_STATE_DISABLED)
NO_NETEM = "Specified qdisc kind is unknown"
# What passes a one-way cut: address resolution, which both directions need.
_RESOLUTION = (
    "ether type arp accept",
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
)


class OneWay(BaseModel):
    """What `node` sends on `network` is dropped at the switch."""

    network: str
    node: str


class LinkFault(BaseModel):
    """What the switch delivers to `node` on `network` is lost or late."""

    network: str
    node: str
    loss: float = Field(default=0.0, ge=0, le=100)  # percent
    delay_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)

    def describe(self) -> str:
        parts = [f"loss {self.loss:g}%"] if self.loss else []
        if self.delay_ms:
            jitter = f" ± {self.jitter_ms:g}ms" if self.jitter_ms else ""
            parts.append(f"delay {self.delay_ms:g}ms{jitter}")
        return f"{self.network} toward {self.node}: {', '.join(parts) or 'nothing'}"


def create_switch(runner: Runner, plan: NetworkPlan) -> None:
    """The switch's namespace and its bridges (`up` has recorded it before)."""
    ip(runner, "netns", "add", plan.switch)
    ip(runner, "-n", plan.switch, "link", "set", "lo", "up")
    for link in plan.links:
        create_bridge(runner, plan.switch, link)


def set_forwarding(runner: Runner, switch: str, end: EndPlan, forwarding: bool) -> None:
    """Let the switch port of `end` forward, or stop it (the node keeps its carrier)."""
    state = FORWARDING if forwarding else DISABLED
    _run(runner, ["bridge", "-n", switch, "link", "set", "dev", end.port, "state", state])


def _run(runner: Runner, argv: list[str]) -> str:
    result = runner.run(argv, TC_TIMEOUT)
    if not result.ok:
        raise CommandFailed(result)
    return result.stdout


def _port(plan: NetworkPlan, network: str, node: str) -> str:
    link = next((link for link in plan.links if link.network == network), None)
    if link is None:
        raise LabError(f"no network {network!r} in this lab")
    return link.end(node).port


def ruleset(plan: NetworkPlan, one_way: list[OneWay], faults: list[LinkFault]) -> list[str]:
    """The rules of the switch's forward chain for these cuts and faults (none: an empty list)."""
    rules = []
    for cut in one_way:
        port = _port(plan, cut.network, cut.node)
        rules += [f'iifname "{port}" {rule}' for rule in _RESOLUTION]
        rules.append(f'iifname "{port}" drop')
    for fault in faults:
        if fault.loss:
            # In hundredths of a percent: "--loss 0.5%" is 50 in 10000.
            share = round(fault.loss * 100)
            port = _port(plan, fault.network, fault.node)
            chance = f"numgen random mod 10000 < {share} " if share < 10000 else ""
            rules.append(f'oifname "{port}" {chance}drop')
    return rules


def nft_script(rules: list[str]) -> str:
    """Replace the lab's table in one transaction (declaring it first, so that deleting it cannot
    fail); no table at all when there is no rule."""
    text = f"table bridge {TABLE}\ndelete table bridge {TABLE}\n"
    if rules:
        body = "".join(f"        {rule}\n" for rule in rules)
        chain = "        type filter hook forward priority 0; policy accept;\n"
        text += f"table bridge {TABLE} {{\n    chain forward {{\n{chain}{body}    }}\n}}\n"
    return text


def load_rules(runner: Runner, switch: str, lab_dir: Path, rules: list[str]) -> None:
    """Put `rules` in force in the switch (replacing what was there)."""
    nft = shutil.which("nft")
    if nft is None:
        if rules:
            raise LabError("nft not found: install nftables (one-way cuts and packet loss need it)")
        return  # without nft no rule can have been loaded: nothing to remove
    path = lab_dir / RULES_FILE
    path.write_text(nft_script(rules))
    _run(runner, ["ip", "netns", "exec", switch, nft, "-f", str(path)])


def set_delay(runner: Runner, switch: str, port: str, delay_ms: float, jitter_ms: float) -> None:
    """A netem queue on `port` (what it sends toward its node waits), or none for 0 ms."""
    if not delay_ms:
        result = runner.run(["tc", "-n", switch, "qdisc", "del", "dev", port, "root"], TC_TIMEOUT)
        # No qdisc of ours there is what we want: tc says so with exit 2.
        absent = ("No such file", "Cannot delete qdisc")
        if not result.ok and not any(text in result.stderr for text in absent):
            raise CommandFailed(result)
        return
    argv = ["tc", "-n", switch, "qdisc", "replace", "dev", port, "root", "netem", "delay", f"{delay_ms:g}ms"]
    if jitter_ms:
        argv.append(f"{jitter_ms:g}ms")
    result = runner.run(argv, TC_TIMEOUT)
    if not result.ok and NO_NETEM in result.stderr:
        raise LabError(
            "this kernel has no netem (CONFIG_NET_SCH_NETEM): the lab cannot delay packets here; "
            "--loss works without it"
        )
    if not result.ok:
        raise CommandFailed(result)


def apply_faults(
    runner: Runner, plan: NetworkPlan, lab_dir: Path, one_way: list[OneWay], faults: list[LinkFault]
) -> None:
    """Put the switch in the state the inventory records: rules, then each port's delay."""
    load_rules(runner, plan.switch, lab_dir, ruleset(plan, one_way, faults))
    delayed = {(f.network, f.node): f for f in faults if f.delay_ms}
    for link in plan.links:
        for end in link.ends:
            fault = delayed.get((link.network, end.node))
            if fault is not None:
                set_delay(runner, plan.switch, end.port, fault.delay_ms, fault.jitter_ms)


def clear_delay(runner: Runner, plan: NetworkPlan, link: LinkPlan, node: str) -> None:
    set_delay(runner, plan.switch, link.end(node).port, 0, 0)

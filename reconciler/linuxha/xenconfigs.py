"""The Xen domain config file of each node, merged into one config and per-node overrides.

Each file is parsed by the project's own reader (`parse_xen_config`), which accepts only literal
assignments: nothing in it is executed, as xm once did. The merge is exact: a key with the same
value on every node goes into `config`; a key on every node with different values takes the base
node's value in `config` and an override on each node that differs; a key missing on some node
goes only into the overrides of the nodes that have it, because an override can add or replace a
key but not remove one.
"""

from dataclasses import dataclass
from pathlib import Path

from reconciler.linuxha.report import Kind, LinuxhaError, Report, Source, YamlPath
from reconciler.linuxha.safexml import read_text
from reconciler.observe.errors import ParseError
from reconciler.observe.xen_config import ConfigEntry, ConfigValue, parse_xen_config

DOMAIN: YamlPath = ("spec", "domain")
ConfigData = int | str | list[str]


@dataclass(frozen=True)
class Setting:
    value: ConfigData
    source: Source


@dataclass(frozen=True)
class NodeConfig:
    node: str
    file: str
    settings: dict[str, Setting]


@dataclass(frozen=True)
class MergedConfig:
    base: dict[str, ConfigData]
    overrides: dict[str, dict[str, ConfigData]]


def read_node_config(node: str, path: Path, display: str, report: Report) -> NodeConfig:
    text = read_text(path, display)
    try:
        parsed = parse_xen_config(text)
    except ParseError as err:
        quoted = f": {err.text!r}" if err.text else ""
        raise LinuxhaError(display, err.line, f"not a Xen domain config: {err.message}{quoted}") from None
    settings: dict[str, Setting] = {}
    for key, entry in _resolve(parsed.entries).items():
        value = _data(key, entry, Source(display, entry.line), report)
        if value is not None:
            settings[key] = Setting(value, Source(display, entry.line))
    return NodeConfig(node, display, settings)


def _resolve(entries: tuple[ConfigEntry, ...]) -> dict[str, ConfigEntry]:
    """The value each key ends with: a later `=` replaces, `+=` appends (as xl reads the file;
    the parser has already refused a `+=` that does not fit)."""
    out: dict[str, ConfigEntry] = {}
    for entry in entries:
        before = out.get(entry.key)
        if entry.op == "+=" and before is not None:
            out[entry.key] = entry.model_copy(update={"value": _join(before.value, entry.value)})
        else:
            out[entry.key] = entry
    return out


def _join(before: ConfigValue, after: ConfigValue) -> ConfigValue:
    if isinstance(before, str) and isinstance(after, str):
        return before + after
    if isinstance(before, tuple) and isinstance(after, tuple):
        return before + after
    return after  # not reached: parse_xen_config refuses a `+=` of another kind


def _data(key: str, entry: ConfigEntry, source: Source, report: Report) -> ConfigData | None:
    """The value as a manifest's domain config holds it, or None (reported) when it cannot."""
    value: ConfigValue = entry.value
    what = f"{key} = {value!r}"
    if not key.isidentifier() or key.startswith("_"):
        report.dropped(source, what, "a manifest's config key is an identifier not starting with '_'")
        return None
    if isinstance(value, bool):
        why = f"written as {int(value)}: xl has no booleans, and xm reads 1 as True"
        report.add(Kind.GUESSED, source, what, why)
        return int(value)
    if isinstance(value, int):
        return value
    texts = [value] if isinstance(value, str) else list(value) if isinstance(value, tuple) else None
    if texts is None or not all(isinstance(item, str) for item in texts):
        why = "a domain config value is a number, a string or a list of strings"
        report.dropped(source, what, why)
        return None
    if any(c in str(item) for item in texts for c in "\n\r\0"):
        report.dropped(source, what, "a newline or NUL in a value would start another assignment")
        return None
    return value if isinstance(value, str) else [str(item) for item in texts]


def _key_order(configs: list[NodeConfig]) -> list[str]:
    keys: list[str] = []
    for config in configs:
        keys.extend(k for k in config.settings if k not in keys)
    return keys


def merge_configs(configs: list[NodeConfig], nodes: list[str], report: Report) -> MergedConfig:
    """One config: the first of `configs` is the base; see the module's docstring for the rule."""
    base_config, others = configs[0], configs[1:]
    base: dict[str, ConfigData] = {}
    overrides: dict[str, dict[str, ConfigData]] = {c.node: {} for c in configs}
    for key in _key_order(configs):
        having = [c for c in configs if key in c.settings]
        if len(having) == len(configs):
            base[key] = base_config.settings[key].value
            for config in others:
                if config.settings[key].value != base[key]:
                    _override(config, key, base_config.node, overrides, report)
            continue
        for config in having:
            overrides.setdefault(config.node, {})[key] = config.settings[key].value
            at = (*DOMAIN, "nodes", config.node, "config", key)
            why = f"not set on {', '.join(c.node for c in configs if c not in having)}"
            report.carried(config.settings[key].source, key, at, why)
    for node in nodes:
        if node not in {c.node for c in configs}:
            why = f"no --xen-config for it: it gets the config of {base_config.node}"
            report.add(Kind.GUESSED, None, f"domain config of node {node}", why, (*DOMAIN, "config"))
    return MergedConfig(base, {node: keys for node, keys in overrides.items() if keys})


def _override(
    config: NodeConfig, key: str, base_node: str, overrides: dict[str, dict[str, ConfigData]], report: Report
) -> None:
    setting = config.settings[key]
    if key == "name":
        # The domain has one name, by which the agents find it on either node.
        why = f"a domain has one name on every node: {base_node}'s is kept"
        report.dropped(setting.source, f"name = {setting.value!r}", why)
        return
    overrides[config.node][key] = setting.value
    at = (*DOMAIN, "nodes", config.node, "config", key)
    report.carried(setting.source, key, at, f"differs from {base_node}")

"""The `reconciler` command line: one group, its commands in reconciler/commands/."""

import click

from reconciler import __version__
from reconciler.commands import agent, applying, manifests, observing, reconciling
from reconciler.lab.commands import lab as lab_group
from reconciler.lab.simulate import simulate_command
from reconciler.linuxha.cli import register as register_linuxha_import


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """Declarative high availability for two-node DRBD clusters.

    Manifests (YAML, kept in git) declare the cluster and its applications; PATH is a manifest file
    or a directory of them (default: $RECONCILER_MANIFESTS or /etc/reconciler/manifests).
    """


for command in (
    manifests.validate,
    manifests.describe_command,
    manifests.schema,
    observing.observe,
    observing.capture_command,
    reconciling.plan_command,
    reconciling.drift_command,
    applying.apply_command,
):
    main.add_command(command)
main.add_command(reconciling.plan_command, name="diff")
for command in agent.COMMANDS:
    main.add_command(command)
register_linuxha_import(main)
lab_group.add_command(simulate_command)
main.add_command(lab_group)

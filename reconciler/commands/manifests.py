"""Commands about the manifests alone: validate, describe, schema."""

import sys
from pathlib import Path

import click

from reconciler import schemas as manifest_schema
from reconciler.commands.common import EXIT_ERROR, load_or_exit, manifest_paths, resolve_paths
from reconciler.describe import describe
from reconciler.manifest import ManifestError, load_manifests
from reconciler.outputs import OutputError, write_output


@click.command()
@manifest_paths
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a stable list of errors for CI bots.",
)
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """Check manifests; print every error with file:line. Exit 0 if valid, 1 if not."""
    try:
        manifests = load_manifests(resolve_paths(paths))
    except ManifestError as err:
        click.echo(err.render_json() if fmt == "json" else err.render_text())
        if fmt == "text":
            click.echo(f"\n{len(err.diagnostics)} error(s); nothing was changed.", err=True)
        sys.exit(EXIT_ERROR)
    if fmt == "json":
        click.echo('{\n  "valid": true,\n  "errors": []\n}')
    else:
        apps = len(manifests.applications)
        click.echo(
            f"valid: {len(manifests.files)} file(s), cluster {manifests.cluster.document.metadata.name}, "
            f"{apps} application(s)"
        )


@click.command("describe")
@manifest_paths
def describe_command(paths: tuple[Path, ...]) -> None:
    """Summarise what the manifests declare (no host is looked at)."""
    click.echo(describe(load_or_exit(paths)))


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the schemas into; created if its parent exists. Each file in it is "
    "written as any output is (docs/limits.md): atomically, a symbolic link refused.",
)
def schema(out: Path) -> None:
    """Write the JSON Schemas of the manifest documents (for editors and CI)."""
    try:
        out.mkdir(exist_ok=True)
    except FileNotFoundError:
        message = f"{out}: the directory {out.parent} does not exist; create it first"
        raise click.ClickException(message) from None
    except OSError as err:
        raise click.ClickException(f"{out}: cannot create the directory: {err.strerror or err}") from None
    for name, text in manifest_schema.generate().items():
        path = out / name
        try:
            write_output(path, text)
        except OutputError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"wrote {path}")

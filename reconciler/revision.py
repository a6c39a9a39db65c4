"""Which manifests a plan was made from: the git commit and dirty flag when the manifest
directory is a git work tree, and always a hash of the content actually loaded.

The content hash is what `apply` compares: a commit alone cannot see uncommitted edits.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

from reconciler.core.plan.model import Revision
from reconciler.observe.runner import Runner


def content_hash(files: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + Path(name).read_bytes() + b"\0")
    return digest.hexdigest()


def manifest_revision(runner: Runner, files: Sequence[str], root: Path) -> Revision:
    directory = str(root if root.is_dir() else root.parent)
    head = runner.run(("git", "-C", directory, "rev-parse", "--verify", "HEAD"))
    commit = head.stdout.strip() if head.ok and head.stdout.strip() else None
    dirty = False
    if commit is not None:
        status = runner.run(("git", "-C", directory, "status", "--porcelain", "--", "."))
        dirty = not status.ok or bool(status.stdout.strip())
    return Revision(commit=commit, dirty=dirty, content_hash=content_hash(files))

"""When each drift was first seen, remembered across runs in the state directory.

Pure `update_seen`; `load_seen`/`save_seen` are the edge. A drift that disappears is forgotten,
so if it comes back it is new again (its "since" is the start of this occurrence).
"""

import json
from datetime import datetime
from pathlib import Path

from reconciler.core.drift import Drift
from reconciler.render.files import write_atomically

SEEN_FILE = "drift-seen.json"


def update_seen(previous: dict[str, datetime], drift: list[Drift], now: datetime) -> dict[str, datetime]:
    return {d.key: previous.get(d.key, now) for d in drift}


def load_seen(state_dir: Path) -> dict[str, datetime]:
    path = state_dir / SEEN_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError):
        # A damaged history only costs the "since" dates; the report itself stays right.
        return {}
    return {key: datetime.fromisoformat(value) for key, value in raw.items() if isinstance(value, str)}


def save_seen(state_dir: Path, seen: dict[str, datetime]) -> None:
    text = json.dumps({k: v.isoformat() for k, v in sorted(seen.items())}, indent=2) + "\n"
    write_atomically(state_dir / SEEN_FILE, text, keep_previous=False)

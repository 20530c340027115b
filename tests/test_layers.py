"""The shape of the house: imports point down, and some neighbours never meet.

A static check over the source (ast), so it also sees imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

# package -> the Parley packages it must never import (prefix match on dotted names).
FORBIDDEN = {
    "bot.negotiation": ("bot.storage", "bot.nlu", "bot.messaging", "bot.channels", "bot.console",
                        "bot.cli", "actions", "bot.privacy", "bot.simulation"),
    "bot.privacy": ("bot.", "actions"),
    "bot.storage": ("bot.nlu", "bot.messaging", "bot.channels", "bot.console", "bot.cli",
                    "actions", "bot.inbound"),
    "bot.messaging": ("bot.channels", "bot.console", "bot.cli", "actions"),
    "bot.channels": ("bot.messaging", "bot.console", "bot.cli", "actions"),
    "bot.nlu": ("bot.storage", "bot.messaging", "bot.channels", "bot.console", "bot.cli",
                "actions"),
}  # fmt: skip


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def violations(root: Path, package: str, forbidden: tuple[str, ...]) -> list[str]:
    folder = root / Path(*package.split("."))
    found = []
    for path in sorted(folder.rglob("*.py")):
        for name in sorted(imports_of(path)):
            if name.startswith(package):
                continue
            for prefix in forbidden:
                if name == prefix.rstrip(".") or name.startswith(prefix.rstrip(".") + "."):
                    found.append(f"{path.relative_to(root)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package: str) -> None:
    assert violations(PROJECT_ROOT, package, FORBIDDEN[package]) == []


def test_channels_and_messaging_do_not_import_each_other() -> None:
    both = violations(PROJECT_ROOT, "bot.channels", ("bot.messaging",)) + violations(
        PROJECT_ROOT, "bot.messaging", ("bot.channels",)
    )
    assert both == []


def test_the_check_finds_a_violation(tmp_path: Path) -> None:
    """The control: a storage module importing the NLU (inside a function) is caught."""
    (tmp_path / "bot" / "storage").mkdir(parents=True)
    (tmp_path / "bot" / "storage" / "x.py").write_text(
        "def f():\n    from bot.nlu.redaction import mask_card_numbers\n"
    )
    assert violations(tmp_path, "bot.storage", ("bot.nlu",)) == [
        "bot/storage/x.py imports bot.nlu.redaction",
        "bot/storage/x.py imports bot.nlu.redaction.mask_card_numbers",
    ]

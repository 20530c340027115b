"""Every package the code imports is declared in pyproject.toml and pinned in the lock.

A package that only arrives as somebody else's dependency (babel through Rasa, numpy
through scikit-learn) can vanish or change major version when that somebody changes; if
the code imports it, pyproject.toml must say so. The imports are read from the source
(ast), so code that no test runs is checked too.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import inspect
import re
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "actions", "bench")
# The project's own top-level packages: imports of these are not dependencies.
OWN = frozenset({*SCANNED, "tests"})
_LOCK_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def canonical(name: str) -> str:
    """PEP 503 name: "Sanic_Cors", "sanic.cors" and "sanic-cors" are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The distribution in a PEP 508 requirement ("rasa[spacy]==3.6.21" -> "rasa")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"not a requirement: {requirement!r}"
    return canonical(match[1])


def imported_modules(paths: Iterable[Path]) -> dict[str, set[str]]:
    """Top-level module name -> the files (relative to the repo) that import it.

    Relative imports (``from . import x``) are the file's own package and are skipped.
    """
    found: dict[str, set[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def third_party(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    return {
        name: files
        for name, files in modules.items()
        if name not in sys.stdlib_module_names and name not in OWN
    }


@lru_cache(maxsize=1)
def module_distributions() -> dict[str, frozenset[str]]:
    """Top-level module -> canonical names of the installed distributions that provide it.

    importlib.metadata.packages_distributions() reads only top_level.txt on Python 3.10,
    which wheels built without setuptools (babel, structlog, rasa, ...) do not have; for
    those the names are inferred from the files the distribution installed, as Python
    3.11's packages_distributions() does.
    """
    mapping: dict[str, set[str]] = {
        module: {canonical(d) for d in dists}
        for module, dists in metadata.packages_distributions().items()
    }
    for dist in metadata.distributions():
        if dist.read_text("top_level.txt") is not None:
            continue
        name = canonical(dist.metadata["Name"])
        for file in dist.files or ():
            # A package directory, or a single module (mod.py, _ext.cpython-310-....so);
            # "x-1.0.dist-info", "../../bin/tool" and "__pycache__" are not importable names.
            top = file.parts[0] if len(file.parts) > 1 else inspect.getmodulename(file.name)
            if top and top.isidentifier() and top != "__pycache__":
                mapping.setdefault(top, set()).add(name)
    return {module: frozenset(dists) for module, dists in mapping.items()}


def pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared_dependencies() -> list[str]:
    return list(pyproject()["project"]["dependencies"])


def all_declared_dependencies() -> list[str]:
    """The runtime dependencies and every optional group (dev tools are locked too)."""
    groups = pyproject()["project"].get("optional-dependencies", {})
    return declared_dependencies() + [req for group in groups.values() for req in group]


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8").splitlines():
        match = _LOCK_PIN.match(line)
        if match:
            pins[canonical(match[1])] = match[2]
    return pins


def undeclared_imports(
    modules: Mapping[str, set[str]],
    declared: Iterable[str],
    providers: Mapping[str, frozenset[str]],
) -> list[str]:
    """One line per imported distribution that `declared` does not name.

    A module that several distributions install (a namespace package such as ``google``)
    counts as declared when any of them is.
    """
    names = {requirement_name(r) for r in declared}
    problems = []
    for module, files in sorted(third_party(modules).items()):
        where = ", ".join(sorted(files))
        dists = providers.get(module)
        if not dists:
            problems.append(f"{module}: imported by {where}, but no installed distribution has it")
        elif not dists & names:
            what = " or ".join(sorted(dists))
            if dists != {canonical(module)}:
                what += f" (module {module})"
            problems.append(
                f"{what}: imported by {where}, not declared in pyproject.toml [project] dependencies"
            )
    return problems


def scanned_files() -> list[Path]:
    files = [p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))]
    assert len(files) > 20, f"found only {len(files)} Python files under {SCANNED}"
    return files


def test_every_imported_package_is_declared() -> None:
    modules = imported_modules(scanned_files())
    # The walk sees what it must: the obvious imports are there.
    assert {"rasa", "sqlalchemy", "yaml"} <= modules.keys()
    problems = undeclared_imports(modules, declared_dependencies(), module_distributions())
    assert not problems, "undeclared direct dependencies:\n" + "\n".join(problems)


def test_every_declared_dependency_is_pinned_in_the_lock() -> None:
    locked = locked_versions()
    assert len(locked) > 100, "requirements/lock.txt was not read"
    missing = [r for r in all_declared_dependencies() if requirement_name(r) not in locked]
    assert not missing, f"declared in pyproject.toml but not in requirements/lock.txt: {missing}"


def test_declared_specifiers_admit_the_locked_versions() -> None:
    from packaging.requirements import Requirement

    locked = locked_versions()
    wrong = []
    for text in all_declared_dependencies():
        requirement = Requirement(text)
        version = locked.get(canonical(requirement.name))
        if version is not None and not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{text} (locked: {version})")
    assert not wrong, f"pyproject.toml and requirements/lock.txt disagree: {wrong}"


# The checks themselves can fail: they are run here on made-up inputs.


def _module_tree(tmp_path: Path, source: str) -> list[Path]:
    path = tmp_path / "mod.py"
    path.write_text(source)
    return [path]


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    return tmp_path


def test_an_undeclared_import_is_named_with_its_file(fake_root: Path) -> None:
    files = _module_tree(
        fake_root,
        "import os\nimport numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
        "from . import sibling\nfrom bot.negotiation import money\nimport yaml\n",
    )
    modules = imported_modules(files)
    assert set(third_party(modules)) == {"numpy", "sklearn", "yaml"}
    providers = {
        "numpy": frozenset({"numpy"}),
        "sklearn": frozenset({"scikit-learn"}),
        "yaml": frozenset({"pyyaml"}),
    }
    problems = undeclared_imports(modules, ["PyYAML>=6", "numpy>=1.23"], providers)
    assert problems == [
        "scikit-learn (module sklearn): imported by mod.py, "
        "not declared in pyproject.toml [project] dependencies"
    ]
    assert undeclared_imports(modules, ["PyYAML", "numpy", "scikit-learn<2"], providers) == []


def test_an_import_nothing_provides_is_reported(fake_root: Path) -> None:
    modules = imported_modules(_module_tree(fake_root, "import not_a_real_package\n"))
    assert undeclared_imports(modules, [], {}) == [
        "not_a_real_package: imported by mod.py, but no installed distribution has it"
    ]


def test_modules_are_mapped_to_their_distributions_on_this_python() -> None:
    providers = module_distributions()
    # With top_level.txt (setuptools-built) and without it (inferred from the files).
    assert "scikit-learn" in providers["sklearn"]
    assert "python-dateutil" in providers["dateutil"]
    for module, dist in [("babel", "babel"), ("structlog", "structlog"), ("rasa", "rasa")]:
        assert dist in providers.get(module, ()), (module, providers.get(module))

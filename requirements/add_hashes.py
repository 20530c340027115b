"""Give every pin in requirements/lock.txt the sha256 of the file pip installs for it.

    python3.10 requirements/add_hashes.py [requirements/lock.txt]

Runs `pip download --no-deps` for the lock (so the files are the ones pip picks on this
machine: CPython 3.10 on Linux x86_64; the sdist for a source-only package), hashes each
file as `pip hash` does, and rewrites the lock with one `--hash=sha256:...` per file,
replacing any hashes it had. Standard library only.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2")


def canonical(name: str) -> str:
    """PEP 503 name: "Sanic_Cors" and "sanic-cors" are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def canonical_version(version: str) -> str:
    """Enough of PEP 440 normalisation to match a pin to a file name ("2.0" == "2.0")."""
    return version.lower().replace("_", ".").replace("-", ".")


def file_key(filename: str) -> tuple[str, str]:
    """(name, version) of a wheel or sdist file name."""
    if filename.endswith(".whl"):
        name, version = filename[: -len(".whl")].split("-")[:2]
        return canonical(name), canonical_version(version)
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            name, _, version = filename[: -len(suffix)].rpartition("-")
            return canonical(name), canonical_version(version)
    raise SystemExit(f"add_hashes: not a wheel or sdist: {filename}")


def read_pins(text: str) -> list[tuple[str, str]]:
    """(name, version) for each requirement; hashes, comments and blank lines are dropped."""
    pins = []
    for logical in re.sub(r"\\\n", " ", text).splitlines():
        line = logical.split("#", 1)[0].strip() if not logical.lstrip().startswith("#") else ""
        if not line:
            continue
        requirement = line.split()[0]
        match = _PIN.match(requirement)
        if match is None:
            raise SystemExit(f"add_hashes: not pinned with ==: {requirement}")
        pins.append((match[1], match[2]))
    return pins


def main(argv: list[str]) -> int:
    lock = Path(argv[1] if len(argv) > 1 else "requirements/lock.txt")
    text = lock.read_text()
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    pins = read_pins(text)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.txt"
        plain.write_text("".join(f"{name}=={version}\n" for name, version in pins))
        downloads = Path(tmp) / "files"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(downloads),
             "-r", str(plain)],
            check=True,
        )  # fmt: skip
        found: dict[tuple[str, str], list[str]] = {}
        for path in sorted(downloads.iterdir()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found.setdefault(file_key(path.name), []).append(digest)
    lines = list(header)
    for name, version in pins:
        hashes = sorted(found.pop((canonical(name), canonical_version(version)), []))
        if not hashes:
            raise SystemExit(f"add_hashes: pip downloaded no file for {name}=={version}")
        lines.append(f"{name}=={version} \\")
        lines += [f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
                  for i, h in enumerate(hashes)]  # fmt: skip
    if found:
        raise SystemExit(f"add_hashes: files that match no pin: {sorted(found)}")
    lock.write_text("\n".join(lines) + "\n")
    print(f"add_hashes: {len(pins)} pins hashed in {lock}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

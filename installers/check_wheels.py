"""Does every runtime dependency have a wheel for each Python and platform we ship on?

    python installers/check_wheels.py [--pythons 3.11 3.12 3.13]

Reads the dependencies from pyproject.toml and asks pip for a binary-only download of each
(no dependencies, into a temporary folder) per target. Prints a table and exits 1 when one
is missing. Needs the package index (PyPI) to be reachable."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# pip matches manylinux tags exactly: several are tried per platform
PLATFORMS = {
    "linux-x86_64": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                     "manylinux2014_x86_64", "manylinux1_x86_64"],
    "windows-x86_64": ["win_amd64"],
    "macos-arm64": ["macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64",
                    "macosx_11_0_arm64", "macosx_11_0_universal2", "macosx_10_13_universal2",
                    "macosx_10_9_universal2"],
}


def dependencies() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [d.split(";")[0].strip() for d in data["project"]["dependencies"]]


def has_wheel(requirement: str, python: str, tags: list[str], folder: str) -> bool:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
           "--python-version", python, "--implementation", "cp", "-d", folder, requirement]
    for tag in tags:
        cmd += ["--platform", tag]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pythons", nargs="+", default=["3.11", "3.12", "3.13"])
    a = ap.parse_args()
    missing = []
    with tempfile.TemporaryDirectory() as folder:
        for req in dependencies():
            row = []
            for py in a.pythons:
                for plat, tags in PLATFORMS.items():
                    ok = has_wheel(req, py, tags, folder)
                    row.append("ok" if ok else "--")
                    if not ok:
                        missing.append(f"{req} for Python {py} on {plat}")
            print(f"{req:40s} " + " ".join(row), flush=True)
    print("columns: " + ", ".join(f"{py}/{plat}" for py in a.pythons for plat in PLATFORMS))
    for m in missing:
        print("missing:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

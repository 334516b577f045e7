"""Does every runtime dependency have a wheel for each Python and platform we ship on?

    python installers/check_wheels.py [--pythons 3.11 3.12 3.13]

Reads the dependencies from pyproject.toml and, per target, asks pip to resolve all of them
with everything they pull in, wheels only (``pip install --dry-run --only-binary=:all:
--python-version X --platform P``: pip reads the wheels' metadata from the index and
downloads no wheel). When a target fails, each dependency is tried alone to name the one
that has no wheel. Prints what each target would install and exits 1 when one is missing.
Needs the package index (PyPI) to be reachable; .ci/run runs it."""

from __future__ import annotations

import argparse
import json
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


def resolve(requirements: list[str], python: str, tags: list[str], folder: str,
            deps: bool = True) -> dict[str, str] | None:
    """name -> version pip would install for this target, or None if it cannot."""
    report = Path(folder) / "report.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "-q", "--ignore-installed",
           "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
           "--target", str(Path(folder) / "target"), "--report", str(report)]
    for tag in tags:
        cmd += ["--platform", tag]
    if not deps:
        cmd.append("--no-deps")
    if subprocess.run(cmd + requirements, capture_output=True).returncode != 0:
        return None
    items = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in items}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pythons", nargs="+", default=["3.11", "3.12", "3.13"])
    a = ap.parse_args()
    reqs = dependencies()
    missing = []
    with tempfile.TemporaryDirectory() as folder:
        for py in a.pythons:
            for plat, tags in PLATFORMS.items():
                got = resolve(reqs, py, tags, folder)
                if got is not None:
                    listed = ", ".join(f"{k} {v}" for k, v in sorted(got.items(), key=lambda kv: kv[0].lower()))
                    print(f"Python {py} {plat}: ok ({len(got)} wheels: {listed})", flush=True)
                    continue
                alone = [r for r in reqs if resolve([r], py, tags, folder, deps=False) is None]
                what = ", ".join(alone) if alone else "a dependency of a dependency"
                print(f"Python {py} {plat}: MISSING {what}", flush=True)
                missing.append(f"Python {py} on {plat}: {what}")
    for m in missing:
        print("missing:", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

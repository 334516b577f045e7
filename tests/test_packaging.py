"""What an installed app carries: the wheel holds every module, the audio models and the
resources/ folder (icon, themes) where the GUI looks for it."""

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_modules_models_and_resources(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("lipsync_desktop-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in (ROOT / "resources").rglob("*"):
        if source.is_file():
            rel = source.relative_to(ROOT / "resources").as_posix()
            assert f"lipsync_desktop/resources/{rel}" in names
    modules = [p.relative_to(ROOT).as_posix() for p in (ROOT / "lipsync_desktop").rglob("*.py")]
    missing = [m for m in modules if m not in names]
    assert missing == []
    entry = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "lipsync-desktop = lipsync_desktop.cli:main" in entry


def test_installed_layout_finds_the_themes(tmp_path, monkeypatch):
    """gui/resources.py looks inside the package first (the wheel's layout)."""
    import shutil

    from lipsync_desktop.gui import resources

    fake_pkg = tmp_path / "lipsync_desktop"
    (fake_pkg / "gui").mkdir(parents=True)
    shutil.copytree(ROOT / "resources", fake_pkg / "resources")
    monkeypatch.setattr(resources, "__file__", str(fake_pkg / "gui" / "resources.py"))
    assert resources.resources_dir() == fake_pkg / "resources"
    (fake_pkg / "resources" / "themes" / "dark.qss").write_text("/* installed copy */")
    assert resources.theme_qss("dark") == "/* installed copy */"


def test_pyinstaller_spec_names_what_exists():
    """Every data file, package and entry script the bundle spec relies on is there."""
    import importlib.util
    import re

    spec = (ROOT / "pyinstaller.spec").read_text(encoding="utf-8")
    for script in re.findall(r'"installers" / "([\w.]+\.py)"', spec):
        assert (ROOT / "installers" / script).is_file(), script
    assert (ROOT / "resources" / "themes").is_dir() and (ROOT / "resources" / "icon.svg").is_file()
    for package in re.findall(r'collect_data_files\("([\w]+)"', spec):
        if package == "espeakng_loader":
            continue  # an optional extra
        assert importlib.util.find_spec(package) is not None, package
    for hidden in re.findall(r'"(lipsync_desktop\.[\w.]+)"', spec):
        assert importlib.util.find_spec(hidden) is not None, hidden
    models = ROOT / "lipsync_desktop" / "models"
    assert '"lipsync_desktop" / "models"' in spec  # the face models travel with the bundle
    manifest = json.loads((models / "MANIFEST.json").read_text())
    for entry in manifest["models"].values():
        for name, digest in entry["files"].items():
            assert hashlib.sha256((models / name).read_bytes()).hexdigest() == digest, name
    assert (models / "LICENSE").is_file() and (models / "NOTICE.md").is_file()
    assert (models / "LICENSE.silero-vad").is_file() and "silero_vad_16k_op15" in manifest["models"]

    root = Path(importlib.util.find_spec("pocketsphinx").submodule_search_locations[0])
    assert (root / "model" / "en-us" / "en-us" / "mdef").is_file()
    for part in ("linux/lipsync-desktop.desktop", "linux/control", "windows/lipsync-desktop.iss",
                 "macos/build_dmg.sh", "macos/Info.plist", "collect_licenses.py"):
        assert (ROOT / "installers" / part).is_file(), part


def test_licence_notices_are_gathered(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "installers" / "collect_licenses.py"),
                           str(tmp_path / "lic")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    notice = (tmp_path / "lic" / "NOTICE.txt").read_text()
    for name in ("onnxruntime", "mediapipe", "Silero VAD", "pocketsphinx", "PySide6-Essentials",
                 "imageio-ffmpeg"):
        assert name in notice
    qt = (tmp_path / "lic" / "PySide6-Essentials" / "LGPL-3.txt").read_text()
    assert "LESSER GENERAL PUBLIC LICENSE" in qt or "LGPL-3.0" in qt  # Qt's licence ships

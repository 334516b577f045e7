"""What an installed app carries: the wheel holds every module, the audio models and the
resources/ folder (icon, themes) where the GUI looks for it."""

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

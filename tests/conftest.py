import os
from pathlib import Path

import pytest

os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/lipsync-numba-cache")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GLOG_minloglevel", "2")

from tests import media  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Settings, presets and logs of each test live in a fresh folder."""
    monkeypatch.setenv("LIPSYNC_DESKTOP_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(scope="session")
def gen(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def face_video(gen) -> Path:
    audio = media.tone(gen / "clip_audio.wav", 2.0, 220)
    return media.face_clip(gen / "face.mp4", 2.0, audio=audio)


@pytest.fixture(scope="session")
def speech(gen) -> Path:
    return media.speechlike(gen / "speech.wav", 3.0)


@pytest.fixture(scope="session")
def short_speech(gen) -> Path:
    return media.speechlike(gen / "short_speech.wav", 1.0)


def samples_dir() -> Path:
    if not media.SAMPLES.is_dir():
        pytest.skip("../shared/samples is not present")
    return media.SAMPLES


# --- the real main window (GUI tests) ---------------------------------------------

@pytest.fixture
def clip(gen) -> Path:
    path = gen / "gui_face.mp4"
    if not path.exists():
        audio = media.tone(gen / "gui_clip_audio.wav", 2.0, 220)
        media.face_clip(path, 2.0, audio=audio)
    return path


@pytest.fixture
def window(qtbot, tmp_path):
    from lipsync_desktop.gui.app import build_main_window
    from lipsync_desktop.queue.store import JobQueue

    w = build_main_window(JobQueue(tmp_path / "queue.sqlite3"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()  # every thread of the window joined before the next test



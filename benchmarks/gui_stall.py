"""How long the window's event loop stalls while a 1080p clip is read and analysed, and
while a result is scrubbed in the before/after view (the figure the GUI tests used to
assert; a loaded machine made it flaky there, so it is measured here).

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_stall.py [--clip VIDEO] [--audio AUDIO]

Default inputs: a generated 1920x1080 face clip (3 s) and generated speech. Prints the
longest gap between two ticks of a 5 ms timer in each phase, and the 99th percentile.
Target: under 100 ms on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path)
    ap.add_argument("--audio", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gui-stall-"))
    os.environ["LIPSYNC_DESKTOP_HOME"] = str(work / "home")
    from tests import media

    clip = args.clip or media.face_clip(work / "big.mp4", 3.0, size=(1920, 1080))
    audio = args.audio or media.speechlike(work / "speech.wav", 3.0)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from lipsync_desktop.gui.app import build_main_window
    from lipsync_desktop.queue.store import JobQueue
    from tests.gui_helpers import _drop

    window = build_main_window(JobQueue(work / "q.sqlite3"))
    window.show()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    def wait_until(cond, limit_s: float = 300) -> None:
        end = time.monotonic() + limit_s
        while not cond():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            app.processEvents()
            time.sleep(0.002)

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    _drop(window.video_zone, [clip])
    _drop(window.audio_zone, [audio])
    wait_until(lambda: window.analysis is not None)
    analysing = sorted(gaps[1:])
    window.output.setText(str(work / "out.mp4"))
    window.run_current()
    job_id = window.current_job
    wait_until(lambda: window.controller.queue.get(job_id).status in ("done", "failed")
               and job_id not in window.controller.running_ids)
    wait_until(lambda: window.result_panel.after is not None)
    gaps.clear()
    last[0] = time.perf_counter()
    for i in range(0, window.result_panel.time.maximum(), 3):
        window.result_panel.time.setValue(i)
        end = time.perf_counter() + 0.01
        while time.perf_counter() < end:
            app.processEvents()
    scrubbing = sorted(gaps[1:])
    timer.stop()
    window.shutdown()
    for name, g in (("analysing", analysing), ("scrubbing", scrubbing)):
        if g:
            print(f"{name}: longest stall {g[-1] * 1000:.0f} ms, p99 "
                  f"{g[int(0.99 * (len(g) - 1))] * 1000:.0f} ms over {len(g)} ticks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

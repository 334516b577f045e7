"""Gather the licence notices of everything a bundle carries into one folder.

    python installers/collect_licenses.py OUT_DIR

Copies each installed distribution's own licence files (from its .dist-info) for the
packages the app bundles, and writes NOTICE.txt naming each with its licence."""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

# distributions whose wheels carry no licence file, and the licence text they are under
TEXT_FOR = {"PySide6-Essentials": "LGPL-3", "PySide6-Addons": "LGPL-3", "shiboken6": "LGPL-3",
            "espeakng-loader": "GPL-3", "imageio-ffmpeg": "GPL-3", "flatbuffers": "Apache-2.0"}
COMMON = Path("/usr/share/common-licenses")  # Debian's copies of the full texts
SPDX = {"LGPL-3": "LGPL-3.0-only", "GPL-3": "GPL-3.0-only", "Apache-2.0": "Apache-2.0"}

BUNDLED = {  # distribution: what it is in the app
    "onnxruntime": "runs the face models (MIT)",
    "pocketsphinx": "phone recognition, alignment; en-us models and CMUdict (BSD-style)",
    "PySide6-Essentials": "Qt 6 for Python: the window (LGPL-3.0; Qt libraries dynamically linked)",
    "PySide6-Addons": "Qt Multimedia: the preview player (LGPL-3.0)",
    "shiboken6": "PySide6's binding runtime (LGPL-3.0)",
    "imageio-ffmpeg": "a static ffmpeg executable, run as a separate program (ffmpeg: GPL-3.0 build "
                      "with x264/x265; its source: https://ffmpeg.org)",
    "av": "PyAV: probing through FFmpeg's libraries (BSD; FFmpeg LGPL/GPL)",
    "numpy": "numerics (BSD-3-Clause)",
    "opencv-python-headless": "image warps and blends (Apache-2.0)",
    "platformdirs": "per-user folders (MIT)",
    "protobuf": "onnxruntime dependency (BSD-3-Clause)",
    "flatbuffers": "onnxruntime dependency (Apache-2.0)",
    "packaging": "onnxruntime dependency (Apache-2.0 or BSD-2-Clause)",
    "espeakng-loader": "optional: espeak-ng library and voice data for scripts in other "
                       "languages (espeak-ng: GPL-3.0)",
}


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    lines = ["Lipsync Desktop bundles the following software. Each folder beside this file",
             "holds that distribution's own licence files.", ""]
    for dist, what in BUNDLED.items():
        try:
            d = metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            continue
        lines.append(f"{dist} {d.version}: {what}")
        target = out / dist
        target.mkdir(exist_ok=True)
        for f in d.files or []:
            name = f.name.lower()
            if ("licen" in name or "copying" in name or "notice" in name) and \
                    not name.endswith((".xml", ".py", ".pyc")):
                src = Path(str(f.locate()))
                if src.is_file():
                    shutil.copyfile(src, target / f.name)
        text = TEXT_FOR.get(dist)
        if text:
            full = COMMON / text
            if full.is_file():
                shutil.copyfile(full, target / f"{text}.txt")
            else:
                (target / f"{text}.txt").write_text(
                    f"{dist} is distributed under {text}: https://spdx.org/licenses/"
                    f"{SPDX[text]}.html\n", encoding="utf-8")
    models = Path(__file__).resolve().parents[1] / "lipsync_desktop" / "models"
    target = out / "mediapipe-face-models"
    target.mkdir(exist_ok=True)
    for name in ("LICENSE", "NOTICE.md"):
        shutil.copyfile(models / name, target / name)
    lines.append("mediapipe 0.10.21 face models (face detection, attention face mesh), converted to "
                 "ONNX: Copyright The MediaPipe Authors, Apache-2.0")
    target = out / "silero-vad"
    target.mkdir(exist_ok=True)
    shutil.copyfile(models / "LICENSE.silero-vad", target / "LICENSE")
    lines.append("Silero VAD 6.2.3 voice-activity model (silero_vad_16k_op15.onnx): "
                 "Copyright (c) 2020-present Silero Team, MIT")
    lines += ["", "Lipsync Desktop itself: proprietary. No model shipped with it was trained on",
              "footage whose terms do not allow it."]
    (out / "NOTICE.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out / "NOTICE.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("installers/licenses")))

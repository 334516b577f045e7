"""Every model file the built-in engine uses: which package ships it, what it is for, its
licence, and its hash (the result cache keys on them, the Models page lists them)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFile:
    """A model file inside an installed package."""

    package: str  # the importable package that ships it
    path: str  # inside that package
    purpose: str
    licence: str

    def locate(self) -> Path | None:
        loaded = sys.modules.get(self.package)
        roots = list(getattr(loaded, "__path__", []) or [])
        if not roots:
            try:
                spec = importlib.util.find_spec(self.package)
            except (ImportError, ValueError):
                spec = None
            roots = list(spec.submodule_search_locations or []) if spec else []
        if not roots:
            return None
        found = Path(roots[0]) / self.path
        return found if found.is_file() else None


MODELS: tuple[ModelFile, ...] = (
    ModelFile("lipsync_desktop.models", "face_detection_full_range.onnx",
              "face detection (mediapipe full range)", "Apache-2.0"),
    ModelFile("lipsync_desktop.models", "face_detection_short_range.onnx",
              "face detection in the mesh's crop (mediapipe short range)", "Apache-2.0"),
    *(ModelFile("lipsync_desktop.models", f"face_landmark_with_attention.{part}",
                "478-point face mesh with attention (mediapipe)", "Apache-2.0")
      for part in ("plan.json", "0.onnx", "1.onnx", "2.onnx", "3.onnx")),
    ModelFile("lipsync_desktop.models", "silero_vad_16k_op15.onnx",
              "voice activity (Silero VAD: pauses under music and noise)", "MIT"),
    *(ModelFile("lipsync_desktop.models", f"composite_{part}.onnx",
                "the compositing on an accelerator (scripts/build_composite_graphs.py)",
                "this project's")
      for part in ("warp_cubic", "warp_linear", *(f"blend_l{n}" for n in range(5)))),
    ModelFile("pocketsphinx", "model/en-us/en-us/means", "en-us acoustic model (phones)",
              "BSD-2-Clause"),
    ModelFile("pocketsphinx", "model/en-us/en-us/mdef", "en-us acoustic model (phone set)",
              "BSD-2-Clause"),
    ModelFile("pocketsphinx", "model/en-us/en-us-phone.lm.bin", "phone language model",
              "BSD-2-Clause"),
    ModelFile("pocketsphinx", "model/en-us/cmudict-en-us.dict",
              "pronouncing dictionary (scripts)", "BSD-2-Clause"),
)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@functools.cache
def digest_of(path: str) -> str:
    """sha256 of a model file (they do not change while the app runs)."""
    return sha256_of(Path(path))


def inventory() -> list[tuple[ModelFile, Path | None, str]]:
    """Each model, where it is installed (None: missing) and its sha256 ("" if missing)."""
    out = []
    for m in MODELS:
        path = m.locate()
        out.append((m, path, digest_of(str(path)) if path else ""))
    return out


@functools.lru_cache(maxsize=1)
def models_digest() -> str:
    """One digest of every model file the engine uses."""
    h = hashlib.sha256()
    for m, _path, digest in inventory():
        h.update(f"{m.package}/{m.path}:{digest}".encode())
    return h.hexdigest()

"""Which accelerators this machine offers, and the onnxruntime providers a device choice means.

``choices.DEVICES`` lists the keys (auto, cpu, cuda, coreml, directml). Each maps to an
onnxruntime execution provider; what is missing says why in a sentence ("onnxruntime-gpu
is not installed", "no CUDA driver"), for ``lipsync-desktop devices``, the Preferences and
the job log. ``auto`` takes the first accelerator that works and falls back to the CPU.
The face models run on the device, and on an accelerator so do the per-frame warps and
blends (``engines/mouthbank/device_composite.py``); the job log says what ran where.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import sys
from dataclasses import dataclass

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.faces.onnx_plan import CPU_PROVIDER

PROVIDERS = {  # device key -> onnxruntime's execution provider
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "cpu": CPU_PROVIDER,
}
AUTO_ORDER = ("cuda", "coreml", "directml")  # what ``auto`` tries, in order


@dataclass(frozen=True)
class DeviceInfo:
    """One device key on this machine: whether it works, and why not."""

    key: str
    available: bool
    reason: str  # why it is missing, or what it runs on

    def to_json(self) -> dict:
        return {"device": self.key, "available": self.available, "detail": self.reason,
                "provider": PROVIDERS.get(self.key)}


@dataclass(frozen=True)
class ResolvedDevice:
    """A job's device: the key it asked for, the one it runs on, the providers in order."""

    asked: str
    key: str
    providers: tuple[str, ...]

    def describe(self) -> str:
        """For the job log: what runs where."""
        picked = "" if self.asked == self.key else f" ({self.asked} chose it)"
        where = ", ".join(self.providers)
        if self.key == "cpu":
            return (f"device cpu{picked}: the face models, warps, colour matching and blends "
                    f"run on {where}")
        return (f"device {self.key}{picked}: the face models and the per-frame warps and "
                f"blends run on {where}; voice detection (a small model, quicker on the "
                "CPU), the masks, colour statistics and detail restoration run on the CPU")


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _cuda_driver() -> bool:
    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def _ort_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def _why_missing(key: str, providers: list[str]) -> str | None:
    """None when ``key`` works here, else the sentence that says why not."""
    if key == "cpu":
        return None
    if key == "cuda":
        gpu_pkg = _installed("onnxruntime-gpu")
        if PROVIDERS["cuda"] not in providers:
            if not gpu_pkg:
                return ("onnxruntime-gpu is not installed (pip install \"lipsync-desktop[gpu]\", "
                        "Linux and Windows with an NVIDIA GPU)")
            if _installed("onnxruntime"):
                return ("onnxruntime-gpu is installed beside onnxruntime, whose files hide it: "
                        "pip uninstall -y onnxruntime onnxruntime-gpu, then pip install "
                        "onnxruntime-gpu")
            return "this onnxruntime-gpu build has no CUDA provider"
        if not _cuda_driver():
            return "no CUDA driver (libcuda) on this machine"
        return None
    if key == "coreml":
        if sys.platform != "darwin":
            return "CoreML is only on macOS"
        return None if PROVIDERS["coreml"] in providers else \
            "this onnxruntime has no CoreML provider (the PyPI wheels for macOS have it)"
    if key == "directml":
        if sys.platform != "win32":
            return "DirectML is only on Windows"
        return None if PROVIDERS["directml"] in providers else \
            "onnxruntime-directml is not installed (pip install onnxruntime-directml)"
    return f"unknown device '{key}'"


@functools.cache
def probe_devices() -> tuple[DeviceInfo, ...]:
    """Every device key but ``auto``, in ``choices.DEVICES`` order, with its state here."""
    providers = _ort_providers()
    out = []
    for key in choices.keys(choices.DEVICES):
        if key == choices.DEVICE_AUTO:
            continue
        why = _why_missing(key, providers)
        detail = why or ("always there" if key == "cpu" else f"onnxruntime's {PROVIDERS[key]}")
        out.append(DeviceInfo(key, why is None, detail))
    return tuple(out)


def resolve_device(asked: str) -> ResolvedDevice:
    """The providers for device ``asked``; an explicit device that is missing here is
    refused with the reason (``auto`` never is: it falls back to the CPU)."""
    if asked not in choices.keys(choices.DEVICES):
        raise InputError(f"Unknown device '{asked[:40]}'; choose one of "
                         f"{', '.join(choices.keys(choices.DEVICES))}.", "bad_device")
    state = {d.key: d for d in probe_devices()}
    if asked == choices.DEVICE_AUTO:
        key = next((k for k in AUTO_ORDER if state[k].available), "cpu")
    else:
        key = asked
        if not state[key].available:
            raise InputError(f"The device '{key}' is not available here: {state[key].reason}. "
                             "Choose 'auto' or 'cpu'; 'lipsync-desktop devices' lists what "
                             "this machine has.", "bad_device")
    providers = (PROVIDERS[key],) if key == "cpu" else (PROVIDERS[key], CPU_PROVIDER)
    return ResolvedDevice(asked, key, providers)

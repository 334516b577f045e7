"""Run a converted model: plain ONNX segments through onnxruntime, custom ops in numpy.

A model without custom ops is one ``.onnx`` file. One with them (the attention face mesh)
ships as segments plus a ``.plan.json`` written by ``scripts/convert_face_models.py``: a list
of steps, each either ``{"run": file, "inputs", "outputs"}`` or ``{"op": name, "inputs",
"outputs", "attrs"}``, executed in order over one table of named tensors."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lipsync_desktop.budget import machine_cores
from lipsync_desktop.errors import LipsyncError
from lipsync_desktop.faces import mesh_ops

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


CPU_PROVIDER = "CPUExecutionProvider"  # onnxruntime's, on every machine
CPU_ONLY = (CPU_PROVIDER,)


# onnxruntime's CUDA provider times every convolution algorithm for each new input size;
# a graph whose input size changes from call to call (the compositing's) takes its guess
VARYING_SHAPE_OPTIONS = {"CUDAExecutionProvider": {"cudnn_conv_algo_search": "HEURISTIC"}}


@functools.cache
def model_session(path: Path, providers: tuple[str, ...] = CPU_ONLY,
                  varying_shapes: bool = False):
    """One session per model file and providers for the whole process: onnxruntime's
    ``run`` may be called from several threads at once, so every scan worker (one per
    chunk) shares it instead of loading the file again. ``providers``: onnxruntime's
    execution providers in order (``devices.resolve_device``), the CPU's last.
    ``varying_shapes``: its inputs change size from call to call (``VARYING_SHAPE_OPTIONS``)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    # the scan's workers run a session side by side: one thread per run keeps them from
    # fighting over the cores (the scan already runs one worker per core)
    opts.intra_op_num_threads = model_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    listed: list = list(providers)
    if varying_shapes:
        listed = [(p, VARYING_SHAPE_OPTIONS[p]) if p in VARYING_SHAPE_OPTIONS else p
                  for p in providers]
    return ort.InferenceSession(str(path), sess_options=opts, providers=listed)



def model_threads() -> int:
    """``LIPSYNC_MODEL_THREADS`` (default 1), capped at the cores this process may use; a value
    that is not a whole number of 1 or more is refused with a sentence."""
    text = os.environ.get("LIPSYNC_MODEL_THREADS", "1").strip()
    try:
        n = int(text)
        if n < 1:
            raise ValueError
    except ValueError:
        raise LipsyncError(f"LIPSYNC_MODEL_THREADS must be a whole number of 1 or more, not "
                           f"'{text[:40]}'. Unset it to use the default (1).") from None
    return min(n, machine_cores())

class OnnxModel:
    """One converted model, run on a single input tensor."""

    def __init__(self, stem: str, models_dir: Path = MODELS_DIR,
                 providers: tuple[str, ...] = CPU_ONLY) -> None:
        plan_path = models_dir / f"{stem}.plan.json"
        if plan_path.is_file():
            plan = json.loads(plan_path.read_text())
            self.input_name: str = plan["input"]
            self.output_names: list[str] = list(plan["outputs"])
            self._steps: list[dict[str, Any]] = plan["steps"]
        else:
            self._steps = [{"run": f"{stem}.onnx", "inputs": None, "outputs": None}]
        self._sessions = {}
        for step in self._steps:
            if "run" in step:
                path = models_dir / step["run"]
                if not path.is_file():
                    raise FileNotFoundError(f"The face model file {path} is missing; reinstall the app.")
                sess = model_session(path, providers)
                self._sessions[step["run"]] = sess
                if step["inputs"] is None:  # a single-file model
                    self.input_name = sess.get_inputs()[0].name
                    self.output_names = [o.name for o in sess.get_outputs()]
                    step["inputs"] = [self.input_name]
                    step["outputs"] = self.output_names

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every output of the model for input ``x``, by name."""
        tensors: dict[str, np.ndarray] = {self.input_name: x}
        for step in self._steps:
            args = [tensors[name] for name in step["inputs"]]
            if "run" in step:
                sess = self._sessions[step["run"]]
                values = sess.run(step["outputs"], dict(zip(step["inputs"], args)))
            else:
                values = [_run_op(step["op"], args, step.get("attrs", {}))]
            tensors.update(zip(step["outputs"], values))
        return {name: tensors[name] for name in self.output_names}


def _run_op(op: str, args: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    if op == "Landmarks2TransformMatrix":
        return mesh_ops.landmarks_to_transform_matrix(args[0], attrs)
    if op == "TransformTensorBilinear":
        return mesh_ops.transform_tensor_bilinear(args[0], args[1], attrs)
    if op == "TransformLandmarks":
        return mesh_ops.transform_landmarks(args[0], args[1])
    raise ValueError(f"unknown custom op {op}")

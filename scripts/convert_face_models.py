"""Convert mediapipe 0.10.21's face models (.tflite) to ONNX, once, for the app to ship.

The app runs mediapipe's face detector and 478-point face mesh through onnxruntime, which
has wheels for every Python and platform we support; mediapipe itself does not (3.9-3.12,
numpy 1 only). This script is the one place that needs TensorFlow: a developer runs it in a
throw-away virtual environment when the models change, and commits its output:

    python3.11 -m venv /tmp/convert && /tmp/convert/bin/pip install tensorflow-cpu tf2onnx \\
        onnx onnxruntime "numpy<2" mediapipe==0.10.21
    /tmp/convert/bin/python scripts/convert_face_models.py

What it does to each model:
* ``face_detection_full_range_sparse.tflite`` keeps some weights sparse (DENSIFY ops), which
  tf2onnx cannot read: the dense values are taken from TF Lite's own DENSIFY and written in.
* ``face_landmark_with_attention.tflite`` uses three mediapipe custom ops (landmarks to
  transform matrix, bilinear tensor crop, landmark transform). The converted graph is cut at
  them into plain ONNX segments; ``lipsync_desktop/faces/mesh_ops.py`` implements the three
  ops in numpy and ``onnx_plan.py`` runs the segments and ops in order (``*.plan.json``).
* Each converted detector is checked against TF Lite on random input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "lipsync_desktop" / "models"
MODELS = {  # source inside mediapipe's package -> our name
    "modules/face_detection/face_detection_full_range_sparse.tflite": "face_detection_full_range",
    "modules/face_detection/face_detection_short_range.tflite": "face_detection_short_range",
    "modules/face_landmark/face_landmark_with_attention.tflite": "face_landmark_with_attention",
}
OPSET = 17


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def densified(src: Path, dst: Path) -> Path:
    """A copy of ``src`` whose sparse weights are stored dense (DENSIFY ops removed)."""
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(src))
    graph = model.subgraphs[0]

    def code(op) -> int:
        oc = model.operatorCodes[op.opcodeIndex]
        return max(oc.builtinCode, oc.deprecatedBuiltinCode)

    densify = [op for op in graph.operators if code(op) == schema.BuiltinOperator.DENSIFY]
    if not densify:
        return src
    interp = tf.lite.Interpreter(
        model_path=str(src), experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    interp.set_tensor(detail["index"], np.zeros(detail["shape"], np.float32))
    interp.invoke()
    for op in densify:
        dense = interp.get_tensor(op.outputs[0])
        buf = schema.BufferT()
        buf.data = np.frombuffer(dense.tobytes(), np.uint8)
        model.buffers.append(buf)
        graph.tensors[op.outputs[0]].buffer = len(model.buffers) - 1
        sparse = graph.tensors[op.inputs[0]]  # unused from now on; tf2onnx still parses it
        sparse.sparsity = None
        sparse.buffer = len(model.buffers) - 1
    graph.operators = [op for op in graph.operators if code(op) != schema.BuiltinOperator.DENSIFY]
    flatbuffer_utils.write_model(model, str(dst))
    return dst


def to_onnx(src: Path, dst: Path) -> None:
    import tf2onnx

    tf2onnx.convert.from_tflite(str(src), opset=OPSET, output_path=str(dst))


def check_against_tflite(tflite: Path, onnx_path: Path) -> float:
    """Largest output difference between TF Lite and onnxruntime on random input."""
    import onnxruntime as ort
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_path=str(tflite),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    x = np.random.RandomState(0).uniform(-1, 1, detail["shape"]).astype(np.float32)
    interp.set_tensor(detail["index"], x)
    interp.invoke()
    ref = sorted((interp.get_tensor(o["index"]) for o in interp.get_output_details()), key=lambda a: a.size)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sorted(sess.run(None, {sess.get_inputs()[0].name: x}), key=lambda a: a.size)
    return max(float(np.abs(r.reshape(g.shape) - g).max()) for r, g in zip(ref, got))


CUSTOM = {"TFL_Landmarks2TransformMatrix": "Landmarks2TransformMatrix",
          "TFL_TransformTensorBilinear": "TransformTensorBilinear",
          "TFL_TransformLandmarks": "TransformLandmarks"}


def split_at_custom_ops(onnx_path: Path, stem: str) -> dict:
    """Cut a graph with custom nodes into plain ONNX segments; return the run plan.

    A node's depth is how many custom nodes lie on its longest path from the input. The
    plain nodes of one depth form one segment; the custom nodes of that depth run after it."""
    import onnx
    from onnx import helper

    model = onnx.load(str(onnx_path))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    types = {vi.name: vi.type.tensor_type.elem_type for vi in
             list(graph.value_info) + list(graph.input) + list(graph.output)}
    depth: dict[str, int] = {}

    def node_depth(node) -> int:
        key = node.output[0]
        if key not in depth:
            d = 0
            for name in node.input:
                src = producer.get(name)
                if src is not None:
                    d = max(d, node_depth(src) + (1 if src.op_type in CUSTOM else 0))
            depth[key] = d
        return depth[key]

    sys.setrecursionlimit(20000)
    levels = max(node_depth(n) for n in graph.node) + 1
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = [o.name for o in graph.output]
    steps = []
    for level in range(levels):
        plain = [n for n in graph.node if node_depth(n) == level and n.op_type not in CUSTOM]
        if plain:
            made = {o for n in plain for o in n.output}
            needed = []
            for n in plain:
                for name in n.input:
                    if name and name not in made and name not in inits and name not in needed:
                        needed.append(name)
            outs = [o for o in sorted(made) if o in graph_outputs
                    or any(c not in plain for c in consumers.get(o, []))]
            used_inits = [inits[name] for n in plain for name in n.input if name in inits]
            seen: set[str] = set()
            used_inits = [t for t in used_inits if not (t.name in seen or seen.add(t.name))]
            seg = helper.make_graph(
                plain, f"{stem}_{level}",
                [helper.make_tensor_value_info(name, types.get(name, onnx.TensorProto.FLOAT), None)
                 for name in needed],
                [helper.make_tensor_value_info(name, types.get(name, onnx.TensorProto.FLOAT), None)
                 for name in outs],
                used_inits)
            seg_model = helper.make_model(seg, opset_imports=model.opset_import)
            seg_model.ir_version = model.ir_version
            name = f"{stem}.{level}.onnx"
            onnx.save(seg_model, str(OUT / name))
            steps.append({"run": name, "inputs": needed, "outputs": outs})
        for n in graph.node:
            if node_depth(n) == level and n.op_type in CUSTOM:
                attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
                steps.append({"op": CUSTOM[n.op_type], "inputs": list(n.input),
                              "outputs": list(n.output), "attrs": attrs})
    return {"input": graph.input[0].name, "outputs": graph_outputs, "steps": steps}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediapipe", type=Path, help="mediapipe package folder (default: the installed one)")
    args = parser.parse_args()
    root = args.mediapipe
    if root is None:
        import importlib.util
        spec = importlib.util.find_spec("mediapipe")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("mediapipe==0.10.21 is not installed here; pass --mediapipe FOLDER")
        root = Path(list(spec.submodule_search_locations)[0])
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.onnx"):
        old.unlink()
    manifest = {"source": "mediapipe 0.10.21 (Apache-2.0), converted by scripts/convert_face_models.py",
                "opset": OPSET, "models": {}}
    work = OUT / ".work"
    work.mkdir(exist_ok=True)
    for rel, stem in MODELS.items():
        src = root / rel
        plain = densified(src, work / f"{stem}.tflite")
        converted = work / f"{stem}.onnx"
        to_onnx(plain, converted)
        entry = {"from": rel, "from_sha256": sha256(src)}
        if stem.startswith("face_detection"):
            diff = check_against_tflite(src, converted)
            print(f"{stem}: largest difference against TF Lite {diff:.2e}")
            if diff > 1e-3:
                sys.exit(f"{stem}: the converted model does not match TF Lite ({diff})")
            os.replace(converted, OUT / f"{stem}.onnx")
            entry["files"] = {f"{stem}.onnx": sha256(OUT / f"{stem}.onnx")}
        else:
            plan = split_at_custom_ops(converted, stem)
            (OUT / f"{stem}.plan.json").write_text(json.dumps(plan, indent=1) + "\n")
            files = [f"{stem}.plan.json"] + [s["run"] for s in plan["steps"] if "run" in s]
            entry["files"] = {f: sha256(OUT / f) for f in files}
            print(f"{stem}: {len(plan['steps'])} steps")
        manifest["models"][stem] = entry
    for f in work.iterdir():
        f.unlink()
    work.rmdir()
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the compositing's accelerator graphs (ONNX) that ``--device cuda|coreml|directml``
runs through onnxruntime, and their hashes into ``lipsync_desktop/models/MANIFEST.json``.

The per-frame warp and blend of ``engines/mouthbank/composite.py`` (the CPU reference) as
onnxruntime graphs, so the execution provider that runs the face models runs them too, with
no new dependency. A developer runs this when the graphs change and commits the output:

    pip install onnx && python scripts/build_composite_graphs.py

* ``composite_warp_{cubic,linear}.onnx``: the reshape's backward map (``reshape_map``) and
  the alignment's inverse, then one GridSample from the source crop (OpenCV's bicubic and
  bilinear); also the crop's cover of the work area.
* ``composite_blend_l{0..4}.onnx``: the colour correction's field brought to full size and
  added, then the multiband (Laplacian pyramid) blend with that many levels.

Inputs and outputs are HWC arrays as the CPU path has them; ``engines/mouthbank/
device_composite.py`` feeds them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lipsync_desktop.engines.mouthbank.device_composite import (  # noqa: E402
    MAX_LEVELS,
    WARP_MODES,
    WARP_PARAMS,
)

OUT = ROOT / "lipsync_desktop" / "models"
OPSET = 17  # GridSample 16 (CUDA's kernel is registered for opsets 16-19)
GRID_MODES = {"cubic": "bicubic", "linear": "bilinear"}  # our names -> GridSample's


class Graph:
    """A small builder over onnx.helper: each call adds a node and returns its output."""

    def __init__(self) -> None:
        from onnx import helper
        self.h = helper
        self.nodes: list = []
        self.inits: list = []
        self.k = 0

    def name(self, stem: str) -> str:
        self.k += 1
        return f"{stem}_{self.k}"

    def const(self, value, dtype=np.float32) -> str:
        from onnx import numpy_helper
        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), n))
        return n

    def op(self, kind: str, *inputs: str, outputs: int = 1, **attrs):
        outs = [self.name(kind.lower()) for _ in range(outputs)]
        self.nodes.append(self.h.make_node(kind, list(inputs), outs, **attrs))
        return outs[0] if outputs == 1 else outs

    # arithmetic shorthands
    def add(self, a, b): return self.op("Add", a, b)
    def sub(self, a, b): return self.op("Sub", a, b)
    def mul(self, a, b): return self.op("Mul", a, b)
    def div(self, a, b): return self.op("Div", a, b)

    def clip01(self, x):
        return self.op("Clip", x, self.const(0.0), self.const(1.0))

    def param(self, p: str, key: str) -> str:
        i = WARP_PARAMS.index(key)
        return self.op("Slice", p, self.const([i], np.int64), self.const([i + 1], np.int64))

    def model(self, inputs, outputs, name: str):
        graph = self.h.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = self.h.make_model(graph, opset_imports=[self.h.make_opsetid("", OPSET)],
                              producer_name="lipsync-desktop scripts/build_composite_graphs.py")
        m.ir_version = 8
        return m


def warp_graph(mode: str):
    """crop (ch, cw, 3) uint8, size [rh, rw] int64, params [len(WARP_PARAMS)] float32 ->
    warped (rh, rw, 3) uint8, cover (rh, rw) uint8 (255 where the crop reaches)."""
    from onnx import TensorProto
    g = Graph()
    h = g.h
    P = "params"

    def p(key):
        return g.param(P, key)

    rh = g.op("Slice", "size", g.const([0], np.int64), g.const([1], np.int64))
    rw = g.op("Slice", "size", g.const([1], np.int64), g.const([2], np.int64))
    zero, one = g.const(0.0), g.const(1.0)
    rw_f = g.op("Cast", g.op("Squeeze", rw), to=TensorProto.FLOAT)
    rh_f = g.op("Cast", g.op("Squeeze", rh), to=TensorProto.FLOAT)
    xs = g.op("Range", zero, rw_f, one)
    ys = g.op("Range", zero, rh_f, one)
    xs = g.op("Unsqueeze", xs, g.const([0], np.int64))  # (1, rw)
    ys = g.op("Unsqueeze", ys, g.const([1], np.int64))  # (rh, 1)
    du, dv = g.sub(xs, p("ox")), g.sub(ys, p("oy"))
    u = g.add(g.mul(du, p("ex0")), g.mul(dv, p("ex1")))  # (rh, rw)
    v = g.add(g.mul(du, p("ey0")), g.mul(dv, p("ey1")))
    # the lower lip and jaw move by delta, less towards the sides; the move fades below the chin
    ramp = g.clip01(g.div(v, p("h")))
    ramp = g.mul(ramp, g.clip01(g.sub(one, g.div(g.sub(v, p("chin_v")), p("chin_fade")))))
    uu = g.sub(u, p("u0"))
    lat = g.div(uu, p("lateral"))
    lateral = g.clip01(g.sub(one, g.mul(lat, lat)))
    shift = g.mul(g.mul(p("delta"), ramp), lateral)
    map_x = g.sub(xs, g.mul(shift, p("ey0")))
    map_y = g.sub(ys, g.mul(shift, p("ey1")))
    # the lips' band widened or narrowed about the mouth's centre
    band = g.clip01(g.sub(one, g.div(g.op("Max", g.sub(p("top"), v), g.sub(v, p("bottom"))),
                                     p("band_fade"))))
    sd = g.div(uu, p("side"))
    side = g.clip01(g.sub(one, g.mul(sd, sd)))
    push = g.mul(g.mul(g.mul(uu, p("widen_k")), band), side)
    map_x = g.sub(map_x, g.mul(push, p("ex0")))
    map_y = g.sub(map_y, g.mul(push, p("ex1")))
    # work area -> crop pixels (the alignment's inverse)
    src_x = g.add(g.add(g.mul(p("a00"), map_x), g.mul(p("a01"), map_y)), p("a02"))
    src_y = g.add(g.add(g.mul(p("a10"), map_x), g.mul(p("a11"), map_y)), p("a12"))
    two = g.const(2.0)
    gx = g.sub(g.div(g.mul(src_x, two), g.sub(p("cw"), one)), one)  # align_corners=1
    gy = g.sub(g.div(g.mul(src_y, two), g.sub(p("ch"), one)), one)
    last = g.const([-1], np.int64)
    grid = g.op("Concat", g.op("Unsqueeze", gx, last), g.op("Unsqueeze", gy, last), axis=-1)
    grid = g.op("Unsqueeze", grid, g.const([0], np.int64))  # (1, rh, rw, 2)
    img = g.op("Cast", g.op("Unsqueeze", "crop", g.const([0], np.int64)), to=TensorProto.FLOAT)
    img = g.op("Transpose", img, perm=[0, 3, 1, 2])
    out = g.op("GridSample", img, grid, mode=GRID_MODES[mode], padding_mode="reflection",
               align_corners=1)
    out = g.op("Transpose", g.op("Squeeze", out, g.const([0], np.int64)), perm=[1, 2, 0])
    out = g.op("Clip", g.op("Round", out), g.const(0.0), g.const(255.0))
    h_out = [h.make_tensor_value_info("warped", TensorProto.UINT8, ["rh", "rw", 3]),
             h.make_tensor_value_info("cover", TensorProto.UINT8, ["rh", "rw"])]
    g.nodes.append(h.make_node("Cast", [out], ["warped"], to=TensorProto.UINT8))
    # cover: the work-area pixels whose source lies on the crop, and (as the reference
    # remaps the crop's cover of the work area) whose reshaped position lies in the work area
    half = g.const(0.5)

    def within(x, size):  # -0.5 <= x < size - 0.5: a nearest pixel exists
        return g.op("And", g.op("GreaterOrEqual", x, g.op("Neg", half)),
                    g.op("Less", x, g.sub(size, half)))

    inside = g.op("And", g.op("And", within(src_x, p("cw")), within(src_y, p("ch"))),
                  g.op("And", within(map_x, rw_f), within(map_y, rh_f)))
    cover = g.mul(g.op("Cast", inside, to=TensorProto.FLOAT), g.const(255.0))
    g.nodes.append(h.make_node("Cast", [cover], ["cover"], to=TensorProto.UINT8))
    inputs = [h.make_tensor_value_info("crop", TensorProto.UINT8, ["ch", "cw", 3]),
              h.make_tensor_value_info("size", TensorProto.INT64, [2]),
              h.make_tensor_value_info(P, TensorProto.FLOAT, [len(WARP_PARAMS)])]
    return g.model(inputs, h_out, f"composite_warp_{mode}")


PYR = np.array([1, 4, 6, 4, 1], np.float64)


def blend_graph(levels: int):
    """roi, warped (h, w, 3) uint8, alpha (h, w) float32, field (fh, fw, 3) float32 ->
    out (h, w, 3) uint8: warped + field (resized), blended over roi by a Laplacian pyramid
    of ``levels`` levels with weights alpha; roi itself where alpha is 0."""
    from onnx import TensorProto
    g = Graph()
    h = g.h
    c7 = 7  # roi (3), corrected source (3), alpha (1) go down the pyramid together
    down_k = g.const(np.tile((np.outer(PYR, PYR) / 256.0)[None, None], (c7, 1, 1, 1)))
    up_k6 = g.const(np.tile((np.outer(PYR, PYR) / 64.0)[None, None], (6, 1, 1, 1)))
    up_k3 = g.const(np.tile((np.outer(PYR, PYR) / 64.0)[None, None], (3, 1, 1, 1)))
    first = g.const([0], np.int64)

    def nchw(x):
        x = g.op("Cast", g.op("Unsqueeze", x, first), to=TensorProto.FLOAT)
        return g.op("Transpose", x, perm=[0, 3, 1, 2])

    def spatial(x):  # [h, w] of an NCHW tensor
        return g.op("Slice", g.op("Shape", x), g.const([2], np.int64), g.const([4], np.int64))

    def down(x):
        pad = g.op("Pad", x, g.const([0, 0, 2, 2, 0, 0, 2, 2], np.int64), mode="reflect")
        return g.op("Conv", pad, down_k, group=c7, strides=[2, 2])

    def up(x, like, kernel, channels):
        """OpenCV's pyrUp of x to the spatial size of ``like``."""
        pad = g.op("Pad", x, g.const([0, 0, 1, 1, 0, 0, 1, 1], np.int64), mode="reflect")
        big = g.op("ConvTranspose", pad, kernel, group=channels, strides=[2, 2])
        start = g.const([4, 4], np.int64)
        return g.op("Slice", big, start, g.add(start, spatial(like)), g.const([2, 3], np.int64))

    roi = nchw("roi")
    src = nchw("warped")
    field = g.op("Transpose", g.op("Unsqueeze", "field", first), perm=[0, 3, 1, 2])
    sizes = g.op("Concat", g.const([1, 3], np.int64), spatial(roi), axis=0)
    field = g.op("Resize", field, "", "", sizes, mode="linear",
                 coordinate_transformation_mode="half_pixel")
    alpha = g.op("Unsqueeze", "alpha", g.const([0, 1], np.int64))
    gauss = [g.op("Concat", roi, g.add(src, field), alpha, axis=1)]
    for _ in range(levels):
        gauss.append(down(gauss[-1]))

    def parts(x):
        ab = g.op("Slice", x, g.const([0], np.int64), g.const([6], np.int64), g.const([1], np.int64))
        m = g.op("Slice", x, g.const([6], np.int64), g.const([7], np.int64), g.const([1], np.int64))
        return ab, m

    def mix(ab, m):
        a = g.op("Slice", ab, g.const([0], np.int64), g.const([3], np.int64), g.const([1], np.int64))
        b = g.op("Slice", ab, g.const([3], np.int64), g.const([6], np.int64), g.const([1], np.int64))
        return g.add(g.mul(a, g.sub(g.const(1.0), m)), g.mul(b, m))

    out = None
    for i in range(levels, -1, -1):
        ab, m = parts(gauss[i])
        if i < levels:
            ab = g.sub(ab, up(parts(gauss[i + 1])[0], ab, up_k6, 6))
        level = mix(ab, m)
        out = level if out is None else g.add(up(out, level, up_k3, 3), level)
    assert out is not None
    out = g.op("Transpose", g.op("Squeeze", out, first), perm=[1, 2, 0])
    out = g.op("Floor", g.op("Clip", g.add(out, g.const(0.5)), g.const(0.0), g.const(255.0)))
    out = g.op("Cast", out, to=TensorProto.UINT8)
    untouched = g.op("Unsqueeze", g.op("LessOrEqual", "alpha", g.const(0.0)), g.const([-1], np.int64))
    g.nodes.append(h.make_node("Where", [untouched, "roi", out], ["out"]))
    inputs = [h.make_tensor_value_info("roi", TensorProto.UINT8, ["h", "w", 3]),
              h.make_tensor_value_info("warped", TensorProto.UINT8, ["h", "w", 3]),
              h.make_tensor_value_info("alpha", TensorProto.FLOAT, ["h", "w"]),
              h.make_tensor_value_info("field", TensorProto.FLOAT, ["fh", "fw", 3])]
    outputs = [h.make_tensor_value_info("out", TensorProto.UINT8, ["h", "w", 3])]
    return g.model(inputs, outputs, f"composite_blend_l{levels}")


def graphs() -> dict[str, object]:
    out: dict[str, object] = {f"composite_warp_{m}.onnx": warp_graph(m)
                              for m in WARP_MODES.values()}
    out.update({f"composite_blend_l{n}.onnx": blend_graph(n) for n in range(MAX_LEVELS + 1)})
    return out


def main() -> int:
    import onnx
    files = {}
    for name, model in graphs().items():
        onnx.checker.check_model(model)
        path = OUT / name
        path.write_bytes(model.SerializeToString())
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{name}: {path.stat().st_size} bytes")
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["models"]["composite"] = {
        "from": "scripts/build_composite_graphs.py (the compositing's accelerator graphs)",
        "files": files,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the audio -> mouth-opening model that ships with the built-in engine.

    python -m lipsync_desktop.training.grid_landmarks ../shared/data/grid CACHE
    python -m lipsync_desktop.training.train_audio2mouth CACHE [OUT.npz]

Training: GRID speaker s1 (with noise, level and speaking-rate augmentation).
Validation: speakers never seen in training (GRID s4 and the single clips in others/).
The model is ridge regression on context-stacked, per-utterance-normalised log-mel
features; its target is each clip's mouth opening, standardised per clip (the engine maps
predictions onto the person's own range, so only the shape of the series matters).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from lipsync_desktop.engines.mouthbank import audio_features as af

ATTRIBUTION = ("Trained on the GRID audio-visual sentence corpus (CC BY 4.0): M. Cooke, "
               "J. Barker, S. Cunningham and X. Shao, JASA 120(5):2421-2424, 2006.")


def _target(opening: np.ndarray) -> np.ndarray | None:
    op = opening.astype(np.float64)
    ok = ~np.isnan(op)
    if ok.sum() < 0.8 * len(op):
        return None
    idx = np.arange(len(op))
    op = np.interp(idx, idx[ok], op[ok])
    return ((op - op.mean()) / (op.std() + 1e-6)).astype(np.float32)


def _augment(audio: np.ndarray, y: np.ndarray, fps: float, rng: np.random.Generator):
    """Speed change (time-warps the target too), added noise and a random gain."""
    speed = rng.choice([0.85, 0.92, 1.0, 1.08, 1.18])
    if speed != 1.0:
        up, down = 100, int(round(100 * speed))
        audio = resample_poly(audio, up, down).astype(np.float32)
        n_new = max(2, int(round(len(y) / speed)))
        y = np.interp(np.linspace(0, len(y) - 1, n_new), np.arange(len(y)), y).astype(np.float32)
    kind = rng.integers(3)
    if kind > 0:
        snr_db = rng.uniform(8, 30)
        noise = rng.standard_normal(len(audio)).astype(np.float32)
        if kind == 2:  # brown-ish noise: rumble, like rooms and old recordings
            noise = np.cumsum(noise)
            noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
        p_sig = np.mean(audio ** 2) + 1e-12
        noise *= np.sqrt(p_sig / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr_db / 10))
        audio = audio + noise
    audio = audio * rng.uniform(0.1, 2.0)
    return audio, y


def load(cache: Path, prefixes: tuple[str, ...], augment: int, seed: int = 0,
         measure: str = "opening"):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for f in sorted(cache.glob("*.npz")):
        if not f.name.startswith(prefixes):
            continue
        d = np.load(f)
        y = _target(d[measure])
        if y is None:
            continue
        audio, fps = d["audio"], float(d["fps"])
        versions = [(audio, y)] + [_augment(audio, y, fps, rng) for _ in range(augment)]
        for a, t in versions:
            xs.append(af.frame_features(a, fps, len(t)))
            ys.append(t)
    return xs, ys


def _stack(xs, ys):
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.float32)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    return (x - mean) / std, y, mean, std


def fit_ridge(xs, ys, lam: float) -> dict:
    z, y, mean, std = _stack(xs, ys)
    z = z.astype(np.float64)
    w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    return {"mean": mean, "std": std, "w0": w[:, None].astype(np.float32),
            "b0": np.array([y.mean()], np.float32), "layers": 1}


def fit_mlp(xs, ys, hidden: int, alpha: float, seed: int = 0) -> dict:
    """A one-hidden-layer ReLU network (scikit-learn, used only for training)."""
    from sklearn.neural_network import MLPRegressor

    z, y, mean, std = _stack(xs, ys)
    net = MLPRegressor(hidden_layer_sizes=(hidden,), alpha=alpha, batch_size=512, learning_rate_init=1e-3,
                       max_iter=40, early_stopping=True, n_iter_no_change=5, random_state=seed)
    net.fit(z, y)
    return {"mean": mean, "std": std, "layers": 2,
            "w0": net.coefs_[0].astype(np.float32), "b0": net.intercepts_[0].astype(np.float32),
            "w1": net.coefs_[1].astype(np.float32), "b1": net.intercepts_[1].astype(np.float32)}


def predict(model: dict, x: np.ndarray) -> np.ndarray:
    h = (x - model["mean"]) / model["std"]
    for k in range(model["layers"]):
        h = h @ model[f"w{k}"] + model[f"b{k}"]
        if k < model["layers"] - 1:
            h = np.maximum(h, 0)
    return h.reshape(len(x))


def mean_r(model: dict, xs, ys) -> float:
    rs = []
    for x, y in zip(xs, ys):
        p = predict(model, x)
        if p.std() > 1e-6:
            rs.append(np.corrcoef(p, y)[0, 1])
    return float(np.mean(rs)) if rs else float("nan")


MODELS = Path(__file__).resolve().parents[1] / "models"


def main(argv: list[str]) -> int:
    cache = Path(argv[0])
    for measure, name in (("opening", "audio2mouth.npz"), ("width", "audio2width.npz")):
        out = (Path(argv[1]) if len(argv) > 1 else MODELS) / name
        print(f"== {measure} -> {out}")
        train(cache, measure, out)
    return 0


def train(cache: Path, measure: str, out: Path) -> None:
    train_x, train_y = load(cache, ("s1__", "s4__"), augment=2, measure=measure)
    val_x, val_y = load(cache, ("others__",), augment=0, measure=measure)
    print(f"train clips {len(train_x)} (with augmentation), validation clips {len(val_x)} "
          "(speakers not in training)", flush=True)
    candidates = []
    for lam in (100.0, 1000.0, 10000.0):
        candidates.append((f"ridge lambda={lam:g}", fit_ridge(train_x, train_y, lam)))
    for hidden, alpha in ((64, 1e-2), (128, 1e-1)):
        candidates.append((f"mlp hidden={hidden} alpha={alpha:g}",
                           fit_mlp(train_x, train_y, hidden, alpha)))
    best = None
    for name, model in candidates:
        r_val = mean_r(model, val_x, val_y)
        print(f"{name}: r train {mean_r(model, train_x[:200], train_y[:200]):.3f}, "
              f"r unseen speakers {r_val:.3f}", flush=True)
        if best is None or r_val > best[0]:
            best = (r_val, name, model)
    assert best is not None, "no model was trained"
    r_val, name, model = best
    meta = {"kind": name, "measure": measure, "layers": model["layers"],
            "context": list(af.CONTEXT),
            "n_mels": af.N_MELS, "r_unseen_speakers": round(r_val, 4),
            "train_clips": len(train_x), "validation_clips": len(val_x),
            "attribution": ATTRIBUTION}
    arrays = {k: v for k, v in model.items() if k != "layers"}
    np.savez_compressed(out, **arrays, meta=json.dumps(meta))
    print(json.dumps({k: v for k, v in meta.items() if k != "context"}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Choosing a source mouth for every output frame: dynamic programming over candidates.

Each output frame keeps the best ``k`` bank frames by shape and pose, plus the natural
continuations of the previous frame's candidates; the Viterbi path trades target error
against switching between sources, so runs of real consecutive motion win and nothing
flickers frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SelectionWeights:
    k: int = 24  # candidates per frame
    pose: float = 0.6  # cost of 0.1 yaw/pitch (or 0.1 rad roll) difference
    switch: float = 0.5  # cost of jumping to an unrelated source frame
    freeze: float = 0.15  # cost of holding the same source frame
    identity_bonus: float = 0.1  # the output's own source frame needs no warping
    width: float = 0.5  # cost of one spread of mouth-width error (opening's weight is 1)
    blur: float = 0.6  # cost of a source whose lips have half the clip's typical detail
    # cost of one spread of opening wanted beyond what a source can show of its own interior
    # (``stretch_limit``): stretching a near-closed gap paints a flat dark hole, so a source
    # open enough to show its teeth and tongue wins unless nothing in the clip is
    stretch: float = 1.0


# a source shows its own interior up to this times its opening plus this many eye distances;
# wider than that the gap between its lips is stretched (the engine logs such frames)
STRETCH_NOTE, MIN_GAP_NOTE = 1.3, 0.01


def stretch_limit(opening: np.ndarray) -> np.ndarray:
    """The widest opening a source of this ``opening`` shows without stretching its interior."""
    return STRETCH_NOTE * np.asarray(opening) + MIN_GAP_NOTE


def select_sources(target: np.ndarray, source: np.ndarray, bank_frames: np.ndarray,
                   opening: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray,
                   w: SelectionWeights, target_width: np.ndarray | None = None,
                   width: np.ndarray | None = None,
                   sharpness: np.ndarray | None = None) -> np.ndarray:
    """Bank positions (indices into ``bank_frames``) for each output frame.

    target: wanted opening per output frame (IOD units); source: the segment frame each
    output frame shows; opening/yaw/pitch/roll: per segment frame measures."""
    n = len(target)
    m = len(bank_frames)
    if m == 0 or n == 0:
        return np.full(n, -1, int)
    b_open, b_yaw = opening[bank_frames], yaw[bank_frames]
    b_pitch, b_roll = pitch[bank_frames], roll[bank_frames]
    spread = max(float(np.nanstd(b_open)), 1e-3)
    b_width: np.ndarray | None = None
    w_spread = 1.0
    if target_width is not None and width is not None:
        b_width = width[bank_frames]
        w_spread = max(float(np.nanstd(b_width)), 1e-3)
    pos_of = {int(f): k for k, f in enumerate(bank_frames)}
    # prefer crisp sources: blur is what users of generated mouths complain about most
    # (judged against what is usual for the same opening: open mouths show more detail)
    blur_cost = np.zeros(m)
    if sharpness is not None and len(sharpness) == m and m > 4 and np.min(sharpness) > 0:
        log_s = np.log(np.asarray(sharpness, float))
        ok = ~np.isnan(b_open)
        fit = np.polyfit(b_open[ok], log_s[ok], 1) if ok.sum() > 4 else np.array([0.0, np.median(log_s)])
        rel = np.exp(log_s - np.polyval(fit, np.nan_to_num(b_open)))
        blur_cost = w.blur * 2 * np.clip(1 - rel, 0, 1)
    k = min(w.k, m)

    def data_cost(o: int, cands: np.ndarray) -> np.ndarray:
        s = int(source[o])
        c = np.abs(b_open[cands] - target[o]) / spread
        c = c + w.stretch * np.maximum(target[o] - stretch_limit(b_open[cands]), 0) / spread
        if b_width is not None and target_width is not None:
            c = c + w.width * np.abs(b_width[cands] - target_width[o]) / w_spread
        if not np.isnan(yaw[s]):
            pose = (np.abs(b_yaw[cands] - yaw[s]) + np.abs(b_pitch[cands] - pitch[s])
                    + np.abs(b_roll[cands] - roll[s])) / 0.1
            c = c + w.pose * pose
        c = c + blur_cost[cands] - w.identity_bonus * (bank_frames[cands] == s)
        return c

    all_pos = np.arange(m)
    cand_list: list[np.ndarray] = []
    back: list[np.ndarray] = []
    prev_cost: np.ndarray = np.zeros(0)
    prev_cands = None
    for o in range(n):
        base = data_cost(o, all_pos)
        top = np.argpartition(base, k - 1)[:k] if k < m else all_pos
        if prev_cands is not None:
            step = int(source[o] - source[o - 1]) or 1  # the source's own direction of play
            cont = [pos_of.get(int(bank_frames[p]) + step, -1) for p in prev_cands]
            follow = np.array([c for c in cont if c >= 0], int)
            top = np.unique(np.concatenate([top, follow, prev_cands]).astype(int))
        cost = base[top]
        if prev_cands is None:
            total = cost
            back.append(np.full(len(top), -1))
        else:
            pf = bank_frames[prev_cands][:, None]
            cf = bank_frames[top][None, :]
            trans = np.full((len(prev_cands), len(top)), w.switch)
            trans[cf == pf] = w.freeze
            trans[cf == pf + step] = 0.0
            acc = prev_cost[:, None] + trans
            arg = acc.argmin(axis=0)
            total = acc[arg, np.arange(len(top))] + cost
            back.append(arg)
        cand_list.append(top)
        prev_cost, prev_cands = total, top
    path = np.empty(n, int)
    j = int(np.argmin(prev_cost))
    for o in range(n - 1, -1, -1):
        path[o] = cand_list[o][j]
        j = int(back[o][j]) if o > 0 else j
    return path

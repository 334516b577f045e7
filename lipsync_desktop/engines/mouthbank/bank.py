"""The mouth bank: the clip's own lower faces at source resolution, with their shapes.

It is the engine's compact index: a crop of the lower face per usable frame (not whole
frames), under a memory budget; long clips keep evenly spread runs of consecutive frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from lipsync_desktop.engines.mouthbank.detail import laplacian_energy, lip_region
from lipsync_desktop.faces import mouth
from lipsync_desktop.faces.mouth import lower_face_box
from lipsync_desktop.faces.tracks import FaceTrack
from lipsync_desktop.media.frames import FrameReader, read_plan
from lipsync_desktop.media.probe import VideoInfo
from lipsync_desktop.progress import StageProgress

MAX_YAW = 0.75  # about 60 degrees of head turn (see mouth.yaw_ratio)


@dataclass
class FrameShape:
    """Per segment frame: landmarks and the measures selection needs (NaN when unusable)."""

    landmarks: np.ndarray  # (n, 478, 2)
    usable: np.ndarray  # (n,) bool
    opening: np.ndarray
    width: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray

    @classmethod
    def of_track(cls, track: FaceTrack, n_frames: int) -> FrameShape:
        lm = np.full((n_frames, 478, 2), np.nan, np.float32)
        if track.landmarks is not None:
            a, b = max(0, track.first), min(n_frames, track.last + 1)
            lm[a:b] = track.landmarks[a - track.first:b - track.first, :, :2]
            lm[a:b][track.state[a - track.first:b - track.first] == 0] = np.nan
        ok = ~np.isnan(lm[:, 0, 0])
        filled = np.where(ok[:, None, None], lm, 0.0)
        yaw = np.where(ok, mouth.yaw_ratio(filled), np.nan)
        usable = ok & (np.abs(np.nan_to_num(yaw, nan=9)) <= MAX_YAW)
        return cls(lm, usable, np.where(ok, mouth.opening(filled), np.nan),
                   np.where(ok, mouth.width(filled), np.nan), yaw,
                   np.where(ok, mouth.pitch_ratio(filled), np.nan),
                   np.where(ok, mouth.roll_angle(filled), np.nan))


@dataclass
class MouthBank:
    """Lower-face crops of chosen segment frames."""

    frames: list[int] = field(default_factory=list)  # segment frame index of each entry
    crops: list[np.ndarray] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)  # crop's top-left in the frame
    sharpness: list[float] = field(default_factory=list)  # detail around the lips

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.crops)


def lip_sharpness(img: np.ndarray, lm: np.ndarray) -> float:
    """Laplacian variance of the grey lip region (motion blur and soft focus score low)."""
    return laplacian_energy(lip_region(img, lm[list(mouth.LIPS_OUTER), :2]))


RUN_FRAMES = 12  # a long clip's bank keeps runs of this many consecutive frames


def choose_bank_frames(shape: FrameShape, budget_bytes: int, width: int, height: int) -> np.ndarray:
    """Usable frames to keep: all of them if they fit the budget, else runs of
    ``RUN_FRAMES`` consecutive usable frames spread evenly over the clip (an even spread of
    single frames leaves no real motion to follow: every output frame would switch source)."""
    usable = np.flatnonzero(shape.usable)
    if usable.size == 0:
        return usable
    boxes = [lower_face_box(shape.landmarks[i], width, height) for i in usable[:: max(1, usable.size // 20)]]
    per_crop = np.mean([(b[2] - b[0]) * (b[3] - b[1]) * 3 for b in boxes])
    cap = max(16, int(budget_bytes // max(float(per_crop), 1.0)))
    if usable.size <= cap:
        return usable
    run = min(RUN_FRAMES, max(1, cap // 8))  # at least 8 runs, for variety
    starts = np.linspace(0, usable.size - run, max(1, cap // run)).round().astype(int)
    pick = (starts[:, None] + np.arange(run)[None, :]).ravel()
    return usable[np.unique(pick)]


# the part of the frames the bank reads reaches this far past its crops (pixels): cut
# there, ffmpeg's conversion to RGB gives the crops the full frame's exact pixels
READ_MARGIN = 8


def read_box(boxes: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The part of the frame to read for crops ``boxes`` (rows x0, y0, x1, y1): their union
    with ``READ_MARGIN``, on even pixels (4:2:0 chroma), inside the frame."""
    x0, y0 = np.maximum(boxes[:, :2].min(axis=0) - READ_MARGIN, 0)
    x1, y1 = boxes[:, 2].max() + READ_MARGIN, boxes[:, 3].max() + READ_MARGIN
    x0, y0 = int(x0) - int(x0) % 2, int(y0) - int(y0) % 2
    x1, y1 = min(width, int(x1) + int(x1) % 2), min(height, int(y1) + int(y1) % 2)
    return x0, y0, x1, y1


def collect_bank(path: str, video: VideoInfo, segment_start: int, n_frames: int,
                 shape: FrameShape, keep: np.ndarray, progress: StageProgress) -> MouthBank:
    """Decode the segment once and keep the lower-face crop of each frame in ``keep``.
    Only the part of the frames the crops lie in leaves ffmpeg (``read_box``): a 1080p
    face's lower half is a tenth of the frame, and converting and piping whole frames to
    RGB took most of the bank's time."""
    bank = MouthBank()
    wanted = np.zeros(n_frames, bool)
    wanted[keep] = True
    w, h = video.display_size
    if not wanted.any():
        return bank
    last = int(keep.max())
    boxes = {int(i): lower_face_box(shape.landmarks[i], w, h) for i in keep}
    area = read_box(np.array(list(boxes.values())), w, h)
    ax, ay = area[:2]

    def frames() -> Iterator[tuple[int, np.ndarray]]:
        if sparse_read(video, keep.size, last + 1):
            # a long clip keeps a few runs of its frames: seek to each run rather than
            # convert and pipe every frame of the clip (10 minutes of 1080p: 18000 frames
            # read for 552 kept)
            for k, frame in read_plan(path, video, segment_start + np.sort(keep), crop=area):
                yield k - segment_start, frame
        else:
            with FrameReader(path, video, segment_start, last + 1, crop=area) as reader:
                yield from enumerate(reader)

    for i, frame in frames():
        if wanted[i]:
            x0, y0, x1, y1 = boxes[i]
            bank.frames.append(i)
            crop = frame[y0 - ay:y1 - ay, x0 - ax:x1 - ax].copy()
            bank.crops.append(crop)
            bank.offsets.append((x0, y0))
            bank.sharpness.append(lip_sharpness(crop, shape.landmarks[i] - [x0, y0]))
        progress.tick(i + 1, last + 1)
    return bank


# read the kept frames run by run when they are fewer than this share of the span
SPARSE_SHARE = 0.25


def sparse_read(video: VideoInfo, kept: int, span: int) -> bool:
    """Whether the bank seeks to its runs instead of reading the whole span: when it keeps
    under ``SPARSE_SHARE`` of it, and the clip has a constant frame rate (a variable-rate
    clip is resampled to its processing rate by a filter whose first frames after a seek
    can differ from a straight read's)."""
    return not video.is_vfr and kept < SPARSE_SHARE * span

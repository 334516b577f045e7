"""The final tier keeps the source mouth's fine detail through the sub-pixel warp."""

import cv2
import numpy as np
from skimage import data

from lipsync_desktop.engines.mouthbank.composite import composite
from lipsync_desktop.engines.mouthbank.detail import detail_layer, laplacian_energy, lip_region
from lipsync_desktop.faces import mouth
from lipsync_desktop.faces.detect import FaceDetector

LIPS = np.array([[40.0, 50.0], [120.0, 50.0], [120.0, 90.0], [40.0, 90.0]])


def _half_pixel_shift(img: np.ndarray) -> np.ndarray:
    m = np.float32([[1, 0, 0.5], [0, 1, 0.5]])
    return cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_LANCZOS4,
                          borderMode=cv2.BORDER_REFLECT)


def test_restoring_brings_the_lost_detail_back_and_no_more():
    source = np.ascontiguousarray(data.astronaut()[180:340, 160:320])  # real skin and hair
    want = laplacian_energy(lip_region(source, LIPS))
    warped = _half_pixel_shift(source)
    lost = laplacian_energy(lip_region(warped, LIPS))
    assert lost < 0.85 * want  # the resampling softened it
    layer = detail_layer(warped, LIPS, want)
    assert layer is not None
    restored = warped.astype(np.float32) + layer
    assert abs(laplacian_energy(lip_region(restored, LIPS)) - want) < 0.01 * want
    # only the finest scale changed: the picture itself is the same
    assert np.abs(cv2.GaussianBlur(restored, (0, 0), 2)
                  - cv2.GaussianBlur(warped.astype(np.float32), (0, 0), 2)).mean() < 1.0
    # nothing lost, nothing added
    assert detail_layer(source, LIPS, want) is None
    blurred = cv2.GaussianBlur(source, (0, 0), 1.5)
    assert detail_layer(source, LIPS, laplacian_energy(lip_region(blurred, LIPS))) is None


def test_final_composite_keeps_the_source_lips_as_sharp_as_they_were(gen):
    from tests import media

    clip = media.face_clip(gen / "detail_face.mp4", 0.2, size=(640, 480))
    frame = media.decode_frames(clip)[0]
    with FaceDetector() as det:
        lm = det.landmarks(frame, det.detect(frame)[0].box)
    moved = lm.copy()
    moved[:, :2] += 0.5  # the same face, half a pixel away: every pixel is resampled
    lips = moved[list(mouth.LIPS_OUTER), :2]
    want = laplacian_energy(lip_region(frame, lm[list(mouth.LIPS_OUTER), :2]))

    def energy(restore: bool) -> float:
        out = composite(frame, moved, frame, (0, 0), lm, 1.0, True,
                        interpolation=cv2.INTER_LANCZOS4, restore_to=want if restore else None)
        return laplacian_energy(lip_region(out, lips))

    plain, restored = energy(False), energy(True)
    assert plain < 0.9 * want
    assert abs(restored - want) < 0.1 * want


def test_faint_detail_is_restored_too(gen):
    """Issue 20: on a face with faint skin and lip texture (a few grey levels, as on a
    700 px VFR phone clip) the detail to put back is under one level per pixel; rounding the
    warped image before the colour correction and the blend threw most of it away (the
    restored lips kept 0.89 of the source's energy there)."""
    from tests import media

    clip = media.face_clip(gen / "detail_face.mp4", 0.2, size=(640, 480))
    frame = media.decode_frames(clip)[0]
    with FaceDetector() as det:
        lm = det.landmarks(frame, det.detect(frame)[0].box)
    mean = frame.reshape(-1, 3).mean(axis=0)
    faint = np.clip((frame - mean) * 0.15 + mean + 0.5, 0, 255).astype(np.uint8)
    moved = lm.copy()
    moved[:, :2] += 0.5
    lips = moved[list(mouth.LIPS_OUTER), :2]
    want = laplacian_energy(lip_region(faint, lm[list(mouth.LIPS_OUTER), :2]))
    out = composite(faint, moved, faint, (0, 0), lm, 1.0, True,
                    interpolation=cv2.INTER_LANCZOS4, restore_to=want)
    plain = composite(faint, moved, faint, (0, 0), lm, 1.0, True,
                      interpolation=cv2.INTER_LANCZOS4, restore_to=None)
    assert laplacian_energy(lip_region(plain, lips)) < 0.93 * want  # the warp softened it
    assert abs(laplacian_energy(lip_region(out, lips)) - want) < 0.05 * want

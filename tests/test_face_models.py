"""The ONNX face models give what mediapipe 0.10.21 gave on the same images.

tests/data/mediapipe_reference.npz holds mediapipe's own output on the images of
tests/face_images.py (made by scripts/make_face_reference.py in an environment with
mediapipe); here the shipped ONNX files and our pre/post-processing must reproduce it."""

from pathlib import Path

import numpy as np
import pytest

from lipsync_desktop.faces import mesh_ops
from lipsync_desktop.faces.face_models import FULL_RANGE, SHORT_RANGE, FaceDetectorModel, FaceMeshModel, ssd_anchors
from tests.face_images import detection_images, mesh_images

REFERENCE = np.load(Path(__file__).parent / "data" / "mediapipe_reference.npz")


@pytest.fixture(scope="module")
def detector():
    return FaceDetectorModel(FULL_RANGE)


@pytest.fixture(scope="module")
def mesh():
    return FaceMeshModel(min_detection_score=0.3)


def test_anchor_layout_matches_the_models_outputs():
    assert ssd_anchors(FULL_RANGE).shape == (2304, 2)
    assert ssd_anchors(SHORT_RANGE).shape == (896, 2)
    # first cell of the 16x16 layer of the short-range model, two anchors
    assert np.allclose(ssd_anchors(SHORT_RANGE)[:2], [[1 / 32, 1 / 32]] * 2)


@pytest.mark.parametrize("name", sorted(detection_images()))
def test_detector_finds_the_faces_mediapipe_found(detector, name):
    image = detection_images()[name]
    ref = REFERENCE[f"det/{name}"]
    got = detector.detect(image, 0.5)
    assert len(got) == len(ref)
    for face, row in zip(got, ref):
        assert face.score == pytest.approx(row[0], abs=1e-4)
        assert np.abs(face.box - row[1:5]).max() < 1e-4
        assert np.abs(face.keypoints.reshape(-1) - row[5:]).max() < 1e-4


@pytest.mark.parametrize("name", sorted(mesh_images()))
def test_mesh_matches_mediapipe_within_half_a_percent_of_the_eye_distance(mesh, name):
    image = mesh_images()[name]
    ref = REFERENCE[f"mesh/{name}"]
    got = mesh.landmarks(image)
    assert got is not None and got.shape == (478, 3)
    h, w = image.shape[:2]
    scale = np.array([w, h])
    iod = np.linalg.norm((ref[33, :2] - ref[263, :2]) * scale)
    err = np.linalg.norm((got[:, :2] - ref[:, :2]) * scale, axis=1) / iod
    assert err.mean() < 0.005 and err.max() < 0.02
    lips = [13, 14, 78, 308, 0, 17]  # the refined lip points the engine reads
    assert err[lips].max() < 0.005
    assert np.abs(got[:, 2] - ref[:, 2]).mean() < 0.005  # depth in units of the width


def test_mesh_finds_no_face_in_a_flat_image(mesh):
    assert mesh.landmarks(np.full((256, 256, 3), 128, np.uint8)) is None


def test_transform_tensor_bilinear_samples_and_zeroes_outside():
    data = np.arange(5 * 6, dtype=np.float32).reshape(1, 5, 6, 1)
    attrs = {"output_height": 5, "output_width": 6}
    identity = np.eye(4, dtype=np.float32)[None]
    assert np.array_equal(mesh_ops.transform_tensor_bilinear(data, identity, attrs), data)
    shifted = identity.copy()
    shifted[0, 0, 3], shifted[0, 1, 3] = 0.5, 1.0  # half a cell right, one down
    out = mesh_ops.transform_tensor_bilinear(data, shifted, attrs)[0, :, :, 0]
    assert out[0, 0] == pytest.approx((data[0, 1, 0, 0] + data[0, 1, 1, 0]) / 2)
    assert np.all(out[-1] == 0) and np.all(out[:, -1] == 0)  # mapped outside the input


def test_landmarks_to_transform_matrix_maps_the_crop_onto_the_points():
    pts = np.zeros((4, 3), np.float32)
    pts[:, :2] = [[10, 20], [30, 20], [10, 40], [30, 40]]  # a level 20 x 20 square
    attrs = {"left_rotation_idx": 0, "right_rotation_idx": 1, "subset_idxs": [0, 1, 2, 3],
             "output_width": 4, "output_height": 4, "scale_x": 1.0, "scale_y": 1.0}
    m = mesh_ops.landmarks_to_transform_matrix(pts, attrs)[0]
    corners = np.array([[0, 0, 0, 1], [4, 4, 0, 1]], np.float32) @ m.T
    assert np.allclose(corners[:, :2], [[10, 20], [30, 40]], atol=1e-4)
    back = mesh_ops.transform_landmarks(np.array([[[2, 2, 7]]], np.float32), m[None])
    assert np.allclose(back, [[[20, 30, 7]]], atol=1e-4)  # the centre, depth kept

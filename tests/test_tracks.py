import numpy as np

from lipsync_desktop.faces.detect import Detection
from lipsync_desktop.faces.tracks import DETECTED, INTERPOLATED, MISSING, FaceTracker


def _frame_with(patches):
    frame = np.zeros((240, 320, 3), np.uint8)
    for (x, y), colour in patches:
        frame[y:y + 40, x:x + 40] = colour
    return frame


def test_ids_survive_a_crossing_and_a_short_occlusion():
    tracker = FaceTracker(fps=25)
    red, blue = (220, 40, 40), (40, 40, 220)
    n = 60
    for i in range(n):
        xa, xb = 20 + 4 * i, 260 - 4 * i  # they pass each other around i = 30
        dets, patches = [], []
        if not 40 <= i < 44:  # A is hidden for four frames
            dets.append(Detection(np.array([xa, 100, xa + 40, 140], np.float32), 0.9))
            patches.append(((xa, 100), red))
        dets.append(Detection(np.array([xb, 104, xb + 40, 144], np.float32), 0.9))
        patches.append(((xb, 104), blue))
        tracker.update(i, dets, _frame_with(patches))
    tracks = tracker.finish(n)
    assert len(tracks) == 2
    for t in tracks:
        assert t.first == 0 and t.last == n - 1
        centre = (t.boxes[:, 0] + t.boxes[:, 2]) / 2
        moving_right = centre[-1] > centre[0]
        # a track that swapped identity at the crossing would turn around
        assert np.all(np.diff(centre) > 0) if moving_right else np.all(np.diff(centre) < 0)
    a = next(t for t in tracks if t.boxes[-1, 0] > t.boxes[0, 0])
    assert (a.state[40:44] == INTERPOLATED).all()
    assert (a.state[:40] == DETECTED).all()
    assert a.share == 1.0


def test_flickering_false_positive_is_dropped():
    tracker = FaceTracker(fps=25)
    frame = _frame_with([((100, 100), (200, 200, 200))])
    for i in range(30):
        dets = [Detection(np.array([100, 100, 140, 140], np.float32), 0.9)]
        if i == 10:
            dets.append(Detection(np.array([250, 10, 270, 30], np.float32), 0.5))
        tracker.update(i, dets, frame)
    tracks = tracker.finish(30)
    assert len(tracks) == 1


def test_long_absence_is_not_interpolated():
    tracker = FaceTracker(fps=10, max_missed_s=5)
    frame = _frame_with([((100, 100), (200, 200, 200))])
    for i in list(range(10)) + list(range(30, 40)):
        tracker.update(i, [Detection(np.array([100, 100, 140, 140], np.float32), 0.9)], frame)
    (t,) = tracker.finish(40)
    assert (t.state[10:30] == MISSING).all()
    assert not t.present(20) and t.present(35)


def test_the_gallery_picture_is_a_sharp_view_of_the_face_alone():
    """Issue 18.10: face 1's picture on the three-face clip was a motion-blurred double
    image with face 0's head over it (the largest, most confident view was taken)."""
    hist = np.full(64, 1 / 64, np.float32)

    def det(x, size, sharp, score=0.9):
        return Detection(np.array([x, 100, x + size, 100 + size], float), score,
                         hist=hist, sharpness=sharp)

    tr = FaceTracker(25)
    for f in range(30):
        if f == 5:  # the biggest view, but another head is in its picture
            dets = [det(200, 110, 400.0, 0.99), det(290, 100, 400.0)]
        elif f == 12:  # big but motion-blurred
            dets = [det(200, 108, 20.0, 0.99)]
        elif f == 20:  # sharp and alone
            dets = [det(200, 100, 400.0)]
        else:
            dets = [det(200, 100, 150.0)]
        tr.update(f, dets)
    tracks = tr.finish(30)
    main = max(tracks, key=lambda t: t.share)
    assert main.thumb_at is not None and main.thumb_at[0] == 20

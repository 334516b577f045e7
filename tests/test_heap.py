import sys

import numpy as np
import pytest

from lipsync_desktop.heap import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_pages_freed_between_kept_arrays_go_back_to_the_system():
    # what the faces pass leaves: many landmark-sized arrays, a few still referenced
    arrays = [np.ones((478, 3), np.float32) for _ in range(40000)]  # about 230 MB
    keep = arrays[::20]
    del arrays
    before = _rss_mb()
    assert release_free_memory()
    after = _rss_mb()
    assert before - after > 100, (before, after)
    assert all(float(a.sum()) == 478 * 3 for a in keep)  # what is still used is intact

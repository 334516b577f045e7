"""Issue 17, the property-based pass: the three readers of outside data (a queue file, the
settings file, a job row of the queue database) take generated JSON and either load it or
refuse it with a LipsyncError and a message; never another exception, and nothing outside
the test's own folder changes."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import fields
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lipsync_desktop.errors import LipsyncError
from lipsync_desktop.queue.overview import EXPORT_FORMAT, import_jobs
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Limits, Preferences, Settings
from lipsync_desktop.spec import JobSpec

ROOT = Path(__file__).resolve().parents[1]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner,
                                                                       max_size=4)), max_leaves=12)


def _objects(names: list[str]):
    """Objects whose keys are mostly the real field names, with any values."""
    return st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=8)), values,
                           max_size=len(names) + 2)


spec_objects = _objects([f.name for f in fields(JobSpec)])
settings_objects = st.fixed_dictionaries({}, optional={
    "limits": st.one_of(values, _objects([f.name for f in fields(Limits)])),
    "preferences": st.one_of(values, _objects([f.name for f in fields(Preferences)]))})
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outside() -> set[str]:
    """What lies around the test's folder: the repository's top level and the settings'
    folder's neighbours (other processes may use the shared temporary folder meanwhile)."""
    return set(os.listdir(ROOT)) | set(os.listdir(Settings.path().parent.parent))


class _Beside:
    """A folder for one example, inside another that holds a file nothing may touch."""

    def __enter__(self) -> Path:
        self._outer = tempfile.TemporaryDirectory()
        self.outer = Path(self._outer.name)
        (self.outer / "keep.txt").write_text("keep")
        (self.outer / "work").mkdir()
        return self.outer / "work"

    def __exit__(self, *exc) -> None:
        assert sorted(os.listdir(self.outer)) == ["keep.txt", "work"]
        assert (self.outer / "keep.txt").read_text() == "keep"
        self._outer.cleanup()


@FUZZ
@given(jobs=st.one_of(values, st.lists(st.one_of(spec_objects, values), max_size=4)))
def test_a_generated_queue_file_loads_or_is_refused_in_words(jobs):
    before = _outside()
    with _Beside() as d:
        path = d / "q.json"
        path.write_text(json.dumps({"format": EXPORT_FORMAT, "version": 1, "jobs": jobs}))
        try:
            specs = import_jobs(path)
        except LipsyncError as exc:
            assert str(exc)
        else:
            assert all(isinstance(s, JobSpec) and s.if_exists == "refuse" for s in specs)
    assert _outside() == before


@FUZZ
@given(raw=st.one_of(settings_objects, values))
def test_a_generated_settings_file_always_gives_usable_settings(raw):
    before = _outside()
    Settings.path().write_text(json.dumps(raw))
    s = Settings.load()  # never raises
    assert isinstance(s.limits.max_width, int) and s.limits.max_duration_s > 0
    assert 1 <= s.preferences.parallel_jobs <= 4 and isinstance(s.preferences.notify_desktop, bool)
    assert all(isinstance(p, str) for p in s.preferences.recent_files)
    for kept in Settings.path().parent.glob("settings.json*"):
        kept.unlink()
    assert _outside() == before


@FUZZ
@given(spec=st.one_of(spec_objects, values),
       progress=st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.text(max_size=5)),
       status=st.one_of(st.sampled_from(["queued", "held", "done", "running"]), st.text(max_size=8),
                        st.integers(-5, 5)))
def test_a_generated_database_row_reads_as_a_job_or_as_damaged(spec, progress, status):
    before = _outside()
    with _Beside() as d:
        q = JobQueue(d / "q.sqlite3")
        with sqlite3.connect(q.path) as db:
            text = json.dumps(spec) if not isinstance(spec, str) else spec
            db.execute("INSERT INTO jobs (position, spec, status, progress, created) VALUES (1, ?, ?, ?, 0)",
                       (text, status, progress))
        (job,) = q.jobs()
        assert job.status == "damaged" or isinstance(job.spec, JobSpec) and not job.problem
        assert 0.0 <= job.progress <= 1.0
        claimed = q.claim_next()
        assert claimed is None or not claimed.problem  # a damaged record never runs
    assert _outside() == before

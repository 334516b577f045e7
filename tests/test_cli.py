import json
import subprocess
import sys

from lipsync_desktop.cli import main
from lipsync_desktop.media.probe import probe


def test_run_exit_codes(face_video, speech, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    code = main(["run", "--video", str(face_video), "--audio", str(speech), "-o", str(out),
                 "--engine", "passthrough", "--tier", "draft", "-q", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert probe(result["output"]).video is not None
    missing = main(["run", "--video", str(tmp_path / "none.mp4"), "--audio", str(speech),
                    "-o", str(tmp_path / "x.mp4"), "-q"])
    assert missing == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_faces_lists_tracks_and_thumbnails(face_video, tmp_path, capsys):
    assert main(["faces", str(face_video), "--thumbnails", str(tmp_path / "th")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["faces"]) == 1 and data["auto"] == 0
    face = data["faces"][0]
    assert face["share"] > 0.9
    assert (tmp_path / "th" / "face_0.png").exists() and face["thumbnail"].endswith("face_0.png")


def test_presets_listing(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "draft" in out and "final" in out and "prores" in out


def test_console_script_help():
    proc = subprocess.run([sys.executable, "-m", "lipsync_desktop", "run", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    for word in ("--sync-mode", "bounce", "cut_off", "--tier", "--preset", "--face"):
        assert word in proc.stdout


def test_sigint_cancels_and_removes_the_partial_file(face_video, gen, tmp_path):
    import signal

    from tests import media

    long_audio = media.speechlike(gen / "long_speech.wav", 40.0)  # 1000 frames to render
    out = tmp_path / "sig.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "lipsync_desktop", "run", "--video",
                             str(face_video), "--audio", str(long_audio), "-o", str(out),
                             "--engine", "passthrough", "--preset", "final"],
                            stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # progress lines: interrupt once rendering has started
        seen.append(line)
        if " render " in line:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + err
    assert "cancelled" in err
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if "part" in p.name] == []

#!/usr/bin/env bash
# Build the Linux app folder with PyInstaller, smoke-test it, and package it as a .deb.
#   bash installers/build_linux.sh            (from the repository root, with .venv set up)
# Output: dist/lipsync-desktop/ and dist/lipsync-desktop_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" -m pip install -q pyinstaller
"$PY" -m PyInstaller --noconfirm --log-level WARN pyinstaller.spec
APP=dist/lipsync-desktop
du -sh "$APP"
# smoke test 1: the CLI writes a playable file from generated media, with no Python around
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" - "$work" <<'PYEOF'
import sys
from pathlib import Path
from tests import media
out = Path(sys.argv[1])
audio = media.tone(out / "clip_audio.wav", 2.0, 220)
media.face_clip(out / "face.mp4", 2.0, audio=audio)
media.speechlike(out / "speech.wav", 2.0)
PYEOF
env -i HOME="$work" PATH=/usr/bin:/bin LIPSYNC_DESKTOP_HOME="$work/home" \
  "$APP/lipsync-desktop-cli" run --video "$work/face.mp4" --audio "$work/speech.wav" \
  -o "$work/out.mp4" --tier draft -q
"$PY" -c "import av,sys; c=av.open(sys.argv[1]); assert c.streams.video and c.streams.audio; print('playable:', sys.argv[1])" "$work/out.mp4"
# the face models run inside the bundle: the generated clip's one face is found
env -i HOME="$work" PATH=/usr/bin:/bin LIPSYNC_DESKTOP_HOME="$work/home" \
  "$APP/lipsync-desktop-cli" faces "$work/face.mp4" -q > "$work/faces.json"
"$PY" -c "import json,sys; f=json.load(open(sys.argv[1]))['faces']; assert len(f) == 1, f; print('faces found by the bundle:', len(f))" "$work/faces.json"
# smoke test 2: the window opens offscreen and closes on SIGINT
env -i HOME="$work" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen LIPSYNC_DESKTOP_HOME="$work/home" \
  "$APP/lipsync-desktop" & pid=$!
for _ in $(seq 1 100); do [ -e "$work/home/data/queue.sqlite3.runner.lock" ] && break; sleep 0.2; done
[ -e "$work/home/data/queue.sqlite3.runner.lock" ] || { echo "the window did not start"; kill $pid; exit 1; }
kill -INT $pid; wait $pid; echo "GUI started and closed"
# the .deb: the app folder under /opt, launchers in /usr/bin, a desktop entry and the icon
version=$("$PY" -c "import lipsync_desktop; print(lipsync_desktop.__version__)")
root="$work/deb"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/doc/lipsync-desktop"
cp -a "$APP" "$root/opt/lipsync-desktop"
ln -s /opt/lipsync-desktop/lipsync-desktop "$root/usr/bin/lipsync-desktop"
ln -s /opt/lipsync-desktop/lipsync-desktop-cli "$root/usr/bin/lipsync-desktop-cli"
cp resources/icon.svg "$root/usr/share/icons/hicolor/scalable/apps/lipsync-desktop.svg"
cp installers/linux/lipsync-desktop.desktop "$root/usr/share/applications/"
cp -a "$APP/_internal/licenses/." "$root/usr/share/doc/lipsync-desktop/" 2>/dev/null || true
size=$(du -sk "$root/opt" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" installers/linux/control > "$root/DEBIAN/control"
dpkg-deb --root-owner-group --build "$root" "dist/lipsync-desktop_${version}_amd64.deb"
ls -la dist/*.deb

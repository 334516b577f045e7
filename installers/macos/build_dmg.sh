#!/usr/bin/env bash
# Build the macOS .app and .dmg. Run on a Mac, from the repository root:
#   python3.11 -m venv .venv && .venv/bin/pip install -e . pyinstaller
#   bash installers/macos/build_dmg.sh
# Output: dist/Lipsync Desktop.app and dist/LipsyncDesktop-<version>.dmg
# The app is unsigned: sign and notarise it (codesign --deep --options runtime, then
# xcrun notarytool submit) before giving it to users, or Gatekeeper will refuse it.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/pyinstaller --noconfirm pyinstaller.spec
version=$(.venv/bin/python -c "import lipsync_desktop; print(lipsync_desktop.__version__)")
app="dist/Lipsync Desktop.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp -R dist/lipsync-desktop/. "$app/Contents/MacOS/"
cp resources/icon.svg "$app/Contents/Resources/"
sed "s/@VERSION@/$version/" installers/macos/Info.plist > "$app/Contents/Info.plist"
stage=$(mktemp -d)
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "Lipsync Desktop" -srcfolder "$stage" -ov -format UDZO \
  "dist/LipsyncDesktop-$version.dmg"
rm -rf "$stage"

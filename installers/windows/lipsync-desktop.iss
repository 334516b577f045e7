; Inno Setup script for the Windows installer.
; Build on Windows, from the repository root, after the app folder is built:
;   py -3.11 -m venv .venv && .venv\Scripts\pip install -e . pyinstaller
;   .venv\Scripts\pyinstaller --noconfirm pyinstaller.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.3.0 installers\windows\lipsync-desktop.iss
; Output: dist\LipsyncDesktop-<version>-setup.exe (per-user install, no admin rights needed).

#ifndef AppVersion
  #define AppVersion "0.3.0"
#endif

[Setup]
AppId={{6C1C9A52-2B7E-4C47-9A0E-1D8A4B7E5F21}
AppName=Lipsync Desktop
AppVersion={#AppVersion}
AppPublisher=Lipsync Desktop
DefaultDirName={autopf}\Lipsync Desktop
DefaultGroupName=Lipsync Desktop
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename=LipsyncDesktop-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
ArchitecturesAllowed=x64compatible
UninstallDisplayIcon={app}\lipsync-desktop.exe
LicenseFile=..\..\build\licenses\NOTICE.txt

[Files]
Source: "..\..\dist\lipsync-desktop\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Lipsync Desktop"; Filename: "{app}\lipsync-desktop.exe"
Name: "{group}\Licences"; Filename: "{app}\_internal\licenses\NOTICE.txt"
Name: "{group}\Uninstall Lipsync Desktop"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Lipsync Desktop"; Filename: "{app}\lipsync-desktop.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\lipsync-desktop.exe"; Description: "Start Lipsync Desktop"; Flags: nowait postinstall skipifsilent

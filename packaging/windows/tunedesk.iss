; Inno Setup 6 script: a per-user installer for the one-folder app (no administrator rights needed).
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\dist\TuneDesk /DOutputDir=..\..\dist packaging\windows\tunedesk.iss
;
; packaging/build.py runs this on Windows after the built program passed its self-test.
; PrivilegesRequired=lowest installs into %LOCALAPPDATA%\Programs\TuneDesk ({autopf} in non-administrative
; mode) with Start-menu and optional desktop shortcuts for this user; the uninstaller is in
; Settings → Apps. TuneDesk writes its projects under %LOCALAPPDATA%\TuneDesk (platformdirs), never
; beside the program, so uninstalling leaves the user's projects alone.
; Untested: built only by the CI workflow on a Windows runner.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\TuneDesk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6F1C2A1E-7D3B-4C55-9E2A-3B1F0C7D9A41}
AppName=TuneDesk
AppVersion={#AppVersion}
AppVerName=TuneDesk {#AppVersion}
AppPublisher=TuneDesk developers
DefaultDirName={autopf}\TuneDesk
DefaultGroupName=TuneDesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=TuneDesk-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\app\app.ico
UninstallDisplayIcon={app}\TuneDesk.exe
UninstallDisplayName=TuneDesk
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\TuneDesk"; Filename: "{app}\TuneDesk.exe"
Name: "{autodesktop}\TuneDesk"; Filename: "{app}\TuneDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\TuneDesk.exe"; Description: "{cm:LaunchProgram,TuneDesk}"; Flags: nowait postinstall skipifsilent

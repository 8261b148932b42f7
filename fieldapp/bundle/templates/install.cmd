@echo off
rem fieldapp offline installer for Windows 10/11: double-click it, or run "install.cmd --demo"
rem to open the demo afterwards. No internet and no administrator rights needed.
rem (This file stays ASCII: cmd.exe reads it in the console's code page.)
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
set result=%ERRORLEVEL%
rem Keep the window open so the result can be read (set FIELDAPP_NO_PAUSE=1 to skip).
if not defined FIELDAPP_NO_PAUSE pause
exit /b %result%

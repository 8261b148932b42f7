# fieldapp offline installer for Windows 10/11 (PowerShell 5.1 or later).
# 离线安装 fieldapp:不需要联网,不需要管理员权限。
#
#   install.cmd                 install (or upgrade) for this user
#   install.cmd --demo          install, then open the demo / 安装后打开演示
#
# Installs into %LOCALAPPDATA%\fieldapp\venv (or %FIELDAPP_INSTALL_DIR%\venv) from the wheels beside this script only
# (pip --no-index), and puts "fieldapp" in the Start menu and on the desktop.
# Needs Python 3.11, 3.12 or 3.13: found through the py launcher, PATH or a per-user install;
# if none is there and a python-3.1x.x-amd64.exe lies beside this script, it is installed for
# this user first (no admin rights).
# No param() block: install.cmd passes "--demo" through, which PowerShell would not bind.
$ErrorActionPreference = "Stop"
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Demo = ($args -contains "--demo") -or ($args -contains "-Demo")
$Target = if ($env:FIELDAPP_INSTALL_DIR) { $env:FIELDAPP_INSTALL_DIR } else { "$env:LOCALAPPDATA\fieldapp" }

function Test-Python([string]$Exe, [string[]]$Pre = @()) {
    try {
        & $Exe @Pre -c "import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))" 2>$null
        return ($LASTEXITCODE -eq 0)
    } catch { return $false }
}

function Find-Python {
    foreach ($v in "3.13", "3.12", "3.11") {
        if ((Get-Command py.exe -ErrorAction SilentlyContinue) -and (Test-Python "py.exe" @("-$v"))) {
            return (& py.exe "-$v" -c "import sys; print(sys.executable)")
        }
    }
    foreach ($v in "313", "312", "311") {
        $exe = "$env:LOCALAPPDATA\Programs\Python\Python$v\python.exe"
        if ((Test-Path $exe) -and (Test-Python $exe)) { return $exe }
    }
    $onPath = Get-Command python.exe -ErrorAction SilentlyContinue
    # The WindowsApps python.exe only opens the Store, which is often blocked: skip it.
    if ($onPath -and ($onPath.Source -notlike "*WindowsApps*") -and (Test-Python $onPath.Source)) {
        return $onPath.Source
    }
    return $null
}

$python = Find-Python
if (-not $python) {
    $installer = Get-ChildItem -Path $here -Filter "python-3.1*-amd64.exe" -ErrorAction SilentlyContinue |
        Sort-Object Name -Descending | Select-Object -First 1
    if (-not $installer) {
        Write-Host "未找到 Python 3.11-3.13。请让信息科把 python.org 的 Windows 安装程序放在本文件夹。"
        Write-Host "No Python 3.11-3.13 found. Put python.org's Windows installer in this folder."
        exit 1
    }
    Write-Host "安装 Python(仅当前用户)/ installing Python for this user: $($installer.Name)"
    Start-Process -FilePath $installer.FullName -Wait -ArgumentList @(
        "/quiet", "InstallAllUsers=0", "PrependPath=0", "Include_test=0", "Include_launcher=0",
        "Shortcuts=0", "AssociateFiles=0")
    $python = Find-Python
    if (-not $python) { Write-Host "Python 安装失败 / Python did not install"; exit 1 }
}
Write-Host "Python: $python"

New-Item -ItemType Directory -Force -Path $Target | Out-Null
& $python -m venv "$Target\venv"
if ($LASTEXITCODE -ne 0) { Write-Host "无法创建虚拟环境 / cannot make the virtual environment"; exit 1 }
$venvPython = "$Target\venv\Scripts\python.exe"
& $venvPython -m pip install --no-index --find-links "$here\wheels" --disable-pip-version-check `
    --no-warn-script-location --upgrade fieldapp
if ($LASTEXITCODE -ne 0) { Write-Host "安装失败 / installation failed"; exit 1 }
$fieldapp = "$Target\venv\Scripts\fieldapp.exe"

# Shortcuts open fieldapp in Windows Terminal where it is installed (it draws box characters
# correctly); otherwise in the console, where fieldapp picks plain borders by itself.
$shell = New-Object -ComObject WScript.Shell
$terminal = Get-Command wt.exe -ErrorAction SilentlyContinue
$places = @([Environment]::GetFolderPath("Programs"), [Environment]::GetFolderPath("Desktop"))
foreach ($folder in $places) {
    foreach ($item in @(@("fieldapp 现场采集", ""), @("fieldapp 演示 demo", "demo"))) {
        $link = $shell.CreateShortcut((Join-Path $folder "$($item[0]).lnk"))
        if ($terminal) {
            $link.TargetPath = $terminal.Source
            $link.Arguments = "`"$fieldapp`" $($item[1])".Trim()
        } else {
            $link.TargetPath = $fieldapp
            $link.Arguments = $item[1]
        }
        $link.WorkingDirectory = $env:USERPROFILE
        $link.Description = "社区嵌入式服务设施 现场采集工具"
        $link.Save()
    }
}

Write-Host ""
Write-Host "安装完成 / installed: $fieldapp"
Write-Host "开始菜单和桌面上有「fieldapp 现场采集」/ Start menu and desktop: 'fieldapp 现场采集'"
if ($Demo) { & $fieldapp demo }

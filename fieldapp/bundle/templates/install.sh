#!/bin/sh
# fieldapp offline installer for Linux (UOS, Kylin, Ubuntu, ...) and macOS.
# 离线安装 fieldapp:不需要联网,不需要管理员权限。
#
#   sh install.sh            install (or upgrade) for this user
#   sh install.sh --demo     install, then open the demo / 安装后打开演示
#
# Needs Python 3.11, 3.12 or 3.13 (python3 --version). Installs into
# ${FIELDAPP_VENV:-$HOME/.local/share/fieldapp/venv} from the wheels beside this script only.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
venv=${FIELDAPP_VENV:-$HOME/.local/share/fieldapp/venv}
bindir=${FIELDAPP_BIN:-$HOME/.local/bin}
demo=no
for arg in "$@"; do
  case "$arg" in
    --demo) demo=yes ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (only --demo)" >&2; exit 2 ;;
  esac
done

python=""
for candidate in ${FIELDAPP_PYTHON:-} python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
      'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  # UOS 20 and Kylin V10 ship older Pythons: use a standalone CPython that IT put beside this
  # script (python-build-standalone's cpython-3.1x.x+…-install_only.tar.gz), unpacked for
  # this user only.
  tarball=$(ls "$here"/cpython-3.1[123]*install_only*.tar.gz 2>/dev/null | sort -r | head -n 1 || true)
  if [ -n "$tarball" ]; then
    standalone=${FIELDAPP_PYTHON_HOME:-$HOME/.local/share/fieldapp/python}
    echo "解压 Python / unpacking Python: $(basename "$tarball") -> $standalone"
    rm -rf "$standalone.new" && mkdir -p "$standalone.new"
    tar -xzf "$tarball" -C "$standalone.new"
    rm -rf "$standalone" && mv "$standalone.new" "$standalone"
    python=$standalone/python/bin/python3
  fi
fi
if [ -z "$python" ]; then
  echo "未找到 Python 3.11–3.13。请信息科安装,或把 cpython-3.12.x-…-install_only.tar.gz" >&2
  echo "(python-build-standalone)放进本文件夹。" >&2
  echo "No Python 3.11-3.13 found: ask IT to install one, or to put a python-build-standalone" >&2
  echo "cpython-3.12.x-...-install_only.tar.gz into this folder." >&2
  exit 1
fi
echo "Python: $(command -v "$python") ($("$python" -c 'import platform; print(platform.python_version())'))"

if ! "$python" -m venv "$venv" 2>/dev/null; then
  echo "无法创建虚拟环境:请安装 python3-venv / cannot make a virtual environment:" \
       "install python3-venv (apt install python3-venv)" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --no-index --find-links "$here/wheels" \
  --disable-pip-version-check --no-warn-script-location --upgrade fieldapp

mkdir -p "$bindir"
ln -sf "$venv/bin/fieldapp" "$bindir/fieldapp"

# A menu entry on Linux desktops (UOS, Kylin, GNOME): opens fieldapp in a terminal.
if [ "$(uname -s)" = Linux ]; then
  apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
  mkdir -p "$apps"
  cat > "$apps/fieldapp.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=fieldapp 现场采集
Name[zh_CN]=fieldapp 现场采集
Comment=社区嵌入式服务设施 现场采集工具 / field tool for community service facilities
Exec=$venv/bin/fieldapp
Terminal=true
Categories=Office;
DESKTOP
fi

echo
echo "安装完成 / installed: $bindir/fieldapp"
echo "  fieldapp            打开应用 / open the app"
echo "  fieldapp demo       打开演示数据 / open the demo"
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "  ($bindir 不在 PATH 中 / is not on PATH: add it, or run $venv/bin/fieldapp)" ;;
esac
if [ "$demo" = yes ]; then
  exec "$venv/bin/fieldapp" demo
fi

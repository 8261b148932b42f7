"""The machines a bundle is made for: their wheel tags and how their markers evaluate.

`pip download --platform` evaluates a requirement's environment markers on the machine it
runs on, not on the target (click needs colorama only on Windows; a bundle built on Linux
would miss it). So each target also carries the marker environment it really has, and
`fieldapp.bundle.check` follows every requirement with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging import tags

PYTHONS = ((3, 11), (3, 12), (3, 13))
#: The oldest glibc targeted: UOS 20 and Kylin V10 ship 2.28.
GLIBC = (2, 28)


@dataclass(frozen=True)
class Target:
    """One OS and CPU; a bundle for it holds wheels for every Python in PYTHONS."""

    name: str
    platforms: tuple[str, ...]  # wheel platform tags, best first
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    installer: str  # the install script written for it

    def environment(self, python: tuple[int, int]) -> dict[str, str]:
        """PEP 508 marker values on this target running CPython `python`."""
        version = f"{python[0]}.{python[1]}"
        return {
            "implementation_name": "cpython", "implementation_version": f"{version}.0",
            "os_name": self.os_name, "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython", "platform_release": "",
            "platform_system": self.platform_system, "platform_version": "",
            "python_full_version": f"{version}.0", "python_version": version,
            "sys_platform": self.sys_platform, "extra": "",
        }

    def tags(self, python: tuple[int, int]) -> set[tags.Tag]:
        """Every wheel tag CPython `python` accepts on this target."""
        abi = f"cp{python[0]}{python[1]}"
        return set(tags.cpython_tags(python, [abi, "abi3", "none"], self.platforms)) | set(
            tags.compatible_tags(python, abi, self.platforms))


def _manylinux(arch: str) -> tuple[str, ...]:
    major, newest = GLIBC
    names = [f"manylinux_{major}_{minor}_{arch}" for minor in range(newest, 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for minor, alias in legacy.items():
        if minor <= newest:
            names.append(f"{alias}_{arch}")
    return tuple(names)


def _macos(arch: str, oldest: tuple[int, int]) -> tuple[str, ...]:
    return tuple(tags.mac_platforms(oldest, arch))


TARGETS = {
    "win_amd64": Target("win_amd64", ("win_amd64",), "win32", "Windows", "AMD64", "nt",
                        "install.ps1"),
    "manylinux_x86_64": Target("manylinux_x86_64", _manylinux("x86_64"), "linux", "Linux",
                               "x86_64", "posix", "install.sh"),
    "manylinux_aarch64": Target("manylinux_aarch64", _manylinux("aarch64"), "linux", "Linux",
                                "aarch64", "posix", "install.sh"),
    "macos_arm64": Target("macos_arm64", _macos("arm64", (12, 0)), "darwin", "Darwin", "arm64",
                          "posix", "install.sh"),
    "macos_x86_64": Target("macos_x86_64", _macos("x86_64", (12, 0)), "darwin", "Darwin",
                           "x86_64", "posix", "install.sh"),
}
#: What `--platform` accepts: one target, or several that share a folder (a Mac bundle holds
#: Apple silicon and Intel wheels; install.sh takes what the Mac needs).
PLATFORMS = {
    "win_amd64": ("win_amd64",),
    "manylinux_x86_64": ("manylinux_x86_64",),
    "manylinux_aarch64": ("manylinux_aarch64",),
    "macos": ("macos_arm64", "macos_x86_64"),
}

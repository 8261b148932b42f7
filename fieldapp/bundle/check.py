"""Whether a folder of wheels installs fieldapp on a target with `pip --no-index`: every
requirement, followed with the target's own markers and tags, has a wheel there."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from fieldapp.bundle.platforms import Target


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: Version
    tags: frozenset[Tag]

    @classmethod
    def of(cls, path: Path) -> Wheel:
        name, version, _build, wheel_tags = parse_wheel_filename(path.name)
        return cls(path, canonicalize_name(name), version, frozenset(wheel_tags))

    def requirements(self) -> list[Requirement]:
        with zipfile.ZipFile(self.path) as archive:
            metadata = next(n for n in archive.namelist()
                            if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            text = archive.read(metadata).decode("utf-8")
        headers = Parser().parsestr(text, headersonly=True)
        return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


@dataclass
class Resolution:
    """What installing `roots` on one target with one Python would take from the folder."""

    chosen: dict[str, Wheel] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # requirement strings with no wheel


def wheels_in(folder: Path) -> dict[str, list[Wheel]]:
    index: dict[str, list[Wheel]] = {}
    for path in sorted(Path(folder).glob("*.whl")):
        wheel = Wheel.of(path)
        index.setdefault(wheel.name, []).append(wheel)
    return index


def applies(requirement: Requirement, environment: dict[str, str], extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra})
               for extra in (extras or {""}))


def resolve(folder: Path, target: Target, python: tuple[int, int],
            roots: list[Requirement]) -> Resolution:
    """Follow `roots` through the folder as pip would on the target (newest fitting wheel)."""
    index, environment = wheels_in(folder), target.environment(python)
    accepted = target.tags(python)
    result = Resolution()
    queue = [(requirement, set()) for requirement in roots]
    seen: set[tuple[str, str, frozenset[str]]] = set()
    while queue:
        requirement, parent_extras = queue.pop(0)
        if not applies(requirement, environment, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        key = (name, str(requirement.specifier), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        fitting = [w for w in index.get(name, ()) if w.tags & accepted and
                   requirement.specifier.contains(w.version, prereleases=True)]
        if not fitting:
            result.missing.append(str(requirement).split(";")[0].strip())
            continue
        wheel = max(fitting, key=lambda w: w.version)
        result.chosen[name] = wheel
        queue += [(dep, set(requirement.extras)) for dep in wheel.requirements()]
    return result

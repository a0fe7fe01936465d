"""The dependency locks (``requirements/*.lock``, written by ``python3 dev.py lock``):
complete for pyproject.toml, every file hash-pinned, one set of versions for the
platform and the tests, and the environment the suite runs in is the locked one."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import dev  # noqa: E402  (the task runner at the repository's root)

LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) --hash=sha256:[0-9a-f]{64}$"
)


def _pins(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            continue
        found = LINE.match(line)
        assert found, f"{lock.name}:{number}: not `name==version --hash=sha256:…`: {line!r}"
        name = canonicalize_name(found["name"])
        assert name not in pins, f"{lock.name}:{number}: {name} pinned twice"
        pins[name] = found["version"]
    return pins


def _declared(extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    if extras == "[test]":
        declared += project["optional-dependencies"]["test"]
    return [Requirement(text) for text in declared]


@pytest.mark.parametrize("extras", ["", "[test]"])
def test_a_lock_pins_every_declared_dependency_within_its_range(extras: str) -> None:
    lock = dev.lock_file(extras)
    assert dev.lock_platform(lock), f"{lock.name} does not say which platform it is for"
    pins = _pins(lock)
    for requirement in _declared(extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock.name} lacks {requirement}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock.name} pins {name}=={pins[name]}, outside {requirement}"
        )
    assert "hdh" not in pins


def test_the_platform_runs_the_versions_the_tests_run() -> None:
    base, test = _pins(dev.lock_file("")), _pins(dev.lock_file("[test]"))
    different = {name: (v, test.get(name)) for name, v in base.items() if test.get(name) != v}
    assert not different, f"base.lock and test.lock disagree: {different}"


def test_the_suite_runs_in_the_locked_environment() -> None:
    lock = dev.lock_file("[test]")
    if dev.lock_platform(lock) != dev.this_platform():
        pytest.skip(f"{lock.name} is for {dev.lock_platform(lock)}, not {dev.this_platform()}")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drifted = {
        name: (version, installed.get(name))
        for name, version in _pins(lock).items()
        if installed.get(name) != version
    }
    assert not drifted, f"installed versions differ from {lock.name}: {drifted}"


@pytest.mark.parametrize(
    "line",
    [
        "django>=5.2 --hash=sha256:" + "0" * 64,
        "django==5.2.1",
        "django==5.2.1 --hash=sha256:xyz",
        "django==5.2.1 --hash=md5:" + "0" * 32,
        "django==5.2.1 --hash=sha256:" + "0" * 64 + "; rm -rf /",
    ],
)
def test_a_lock_line_without_an_exact_version_and_a_sha256_is_refused(
    tmp_path: Path, line: str
) -> None:
    lock = tmp_path / "bad.lock"
    lock.write_text(f"# platform: {dev.this_platform()}\n{line}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"bad\.lock:2"):
        _pins(lock)

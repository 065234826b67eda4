"""The lock files agree with pyproject.toml: every dependency it names is pinned, with hashes, at a
version its specifier allows; the test lock pins the runtime lock's versions. `make install`
installs from requirements-test.lock, the Dockerfile from requirements.lock."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from settings import ROOT

PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def pins(lock_text: str) -> dict[str, tuple[Version, int]]:
    """Each pinned package of a lock: its version and how many hashes it carries."""
    found: dict[str, tuple[Version, int]] = {}
    name = None
    for line in lock_text.splitlines():
        if match := _PIN.match(line):
            name = canonicalize_name(match["name"])
            found[name] = (Version(match["version"]), 0)
        elif name is not None and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


def requirements(pyproject: dict, *, test: bool) -> list[Requirement]:
    names = pyproject["project"]["dependencies"] + pyproject["build-system"]["requires"]
    if test:
        names += pyproject["project"]["optional-dependencies"]["test"]
    return [Requirement(name) for name in names]


def disagreements(pyproject: dict, lock_text: str, *, test: bool) -> list[str]:
    locked = pins(lock_text)
    problems = []
    for requirement in requirements(pyproject, test=test):
        pin = locked.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(pin[0], prereleases=True):
            problems.append(f"{requirement} but the lock pins {pin[0]}")
    problems += [f"{name}=={version} has no hash" for name, (version, hashes) in locked.items() if hashes == 0]
    return problems


def explain(lock: Path, problems: list[str]) -> str:
    return f"{lock.name} disagrees with pyproject.toml; run `make lock` and commit both locks:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("lock", "test"), [(LOCK, False), (TEST_LOCK, True)], ids=["runtime", "test"])
def test_the_lock_pins_every_dependency_of_pyproject_with_hashes(lock: Path, test: bool) -> None:
    pyproject = tomllib.loads(PYPROJECT.read_text())
    problems = disagreements(pyproject, lock.read_text(), test=test)
    assert not problems, explain(lock, problems)


def test_the_test_lock_runs_the_runtime_lock_versions() -> None:
    """What the tests run is what the image runs."""
    runtime, with_tests = pins(LOCK.read_text()), pins(TEST_LOCK.read_text())
    differ = [f"{name}: {version} in {LOCK.name}, {with_tests.get(name, ('missing',))[0]} in {TEST_LOCK.name}"
              for name, (version, _) in runtime.items() if with_tests.get(name, (None,))[0] != version]
    assert not differ, explain(TEST_LOCK, differ)


def test_a_dependency_added_to_pyproject_but_not_locked_is_named() -> None:
    pyproject = tomllib.loads(PYPROJECT.read_text())
    pyproject["project"]["dependencies"].append("left-pad-for-python>=1.0")
    pyproject["project"]["optional-dependencies"]["test"].append("pytest>=999")

    assert disagreements(pyproject, LOCK.read_text(), test=False) == ["left-pad-for-python>=1.0 is not in the lock"]
    [newer_pytest] = [p for p in disagreements(pyproject, TEST_LOCK.read_text(), test=True) if "pytest>=999" in p]
    assert newer_pytest.startswith("pytest>=999 but the lock pins ")


def test_a_pin_without_hashes_is_named() -> None:
    pyproject = {"project": {"dependencies": ["httpx>=0.27"]}, "build-system": {"requires": []}}
    assert disagreements(pyproject, "httpx==0.28.1\n    # via complaint-desk\n", test=False) == [
        "httpx==0.28.1 has no hash"
    ]


def test_the_image_installs_from_the_runtime_lock_only() -> None:
    """The Dockerfile's dependencies come from requirements.lock with hashes; any other pip install
    adds no dependency of its own (the project itself, --no-deps)."""
    installs = [line for line in re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text()).splitlines()
                if re.search(r"\bpip install\b", line) and not line.lstrip().startswith("#")]
    assert any("--require-hashes" in line and f"-r {LOCK.name}" in line for line in installs), installs
    assert all("--no-deps" in line for line in installs if f"-r {LOCK.name}" not in line), installs


def test_make_install_installs_again_from_the_lock_when_the_lock_changes(tmp_path: Path) -> None:
    """`make -n` (prints, runs nothing) in a copy of the tree's install files."""
    for name in ("Makefile", "pyproject.toml", LOCK.name, TEST_LOCK.name):
        shutil.copy2(ROOT / name, tmp_path / name)
    stamp = tmp_path / ".venv" / ".installed-stamp"
    stamp.parent.mkdir()
    stamp.touch()

    def would_run() -> str:
        return subprocess.run(["make", "-n", "install"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout

    assert "pip" not in would_run()  # installed after the lock was written: nothing to do
    later = stamp.stat().st_mtime + 10
    os.utime(tmp_path / TEST_LOCK.name, (later, later))  # `make lock` wrote a new lock
    commands = would_run()
    assert f"install --quiet --require-hashes -r {TEST_LOCK.name}" in commands
    assert "install --quiet --no-deps --no-build-isolation -e ." in commands

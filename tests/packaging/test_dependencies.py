"""Dependencies: every runtime dependency has an upper bound, the known-bad releases are excluded
(gunicorn before 23.0 allows request smuggling), zone data ships with Ally (tzdata), and the
install steps use constraints.txt, which pins everything the tested environment holds."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, pinned = line.split("==")
            found[canonicalize_name(name)] = pinned.strip()
    return found


def test_every_runtime_dependency_has_an_upper_bound() -> None:
    for requirement in runtime_requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {"<", "<=", "==", "~="}, f"{requirement.name} has no upper bound"


def test_known_bad_releases_are_excluded_and_zone_data_is_a_dependency() -> None:
    by_name = {canonicalize_name(r.name): r for r in runtime_requirements()}
    assert not by_name["gunicorn"].specifier.contains(Version("22.0.0"))
    assert by_name["gunicorn"].specifier.contains(Version("23.0.0"))
    assert "tzdata" in by_name
    assert "cryptography" in by_name


def test_constraints_pin_every_runtime_dependency_within_its_range() -> None:
    pinned = pins()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in constraints.txt"
        assert requirement.specifier.contains(Version(pinned[name])), (name, pinned[name])


def test_the_tested_environment_is_the_pinned_one() -> None:
    """The suite runs on exactly the versions constraints.txt names (make installs with it)."""
    for name, pinned in pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        assert installed == pinned, f"{name}: installed {installed}, constraints.txt {pinned}"


def test_the_makefile_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"^\t\$\(BIN\)/pip install (?!--quiet --upgrade pip).*$", makefile, re.M)
    assert installs
    for line in installs:
        assert "-c $(CONSTRAINTS)" in line or "--upgrade -e" in line, line
    assert re.search(r"^constraints:", makefile, re.M)

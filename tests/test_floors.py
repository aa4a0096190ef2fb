"""The declared minimum versions are true: what the code uses exists at the floor, the pins fit.

`pyproject.toml` promises that any version at or above each floor works; `constraints.txt`
pins what `make` installs. A floor below a feature the code uses, or a Python floor below
what a pinned library needs, is a broken install for a new user.

`python tests/test_floors.py [EXTRA...]` prints the floors as `name==version` lines: the CI job
`.github/workflows/floors.yml` installs exactly those and runs part of the suite on them.
"""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

# What the code uses, and the first release of the library that has it.
KNOWN_NEEDS = [
    ("numpy", "2.0", r"np\.trapezoid\("),  # np.trapz was renamed in NumPy 2.0
    ("keras", "3.9", r"layers\.RandomErasing\("),  # the layer arrived in Keras 3.9
    ("pydantic", "2.0", r"model_validate\(|model_dump\("),
    ("importlib_resources", "6", None),  # TFDS's download_and_prepare imports it (no usage in our code)
    # Built against NumPy 2 (earlier wheels fail to import under it): the first such release.
    ("scipy", "1.13", None), ("pandas", "2.2.2", None), ("scikit-learn", "1.4.2", None),
    ("matplotlib", "3.9", None),  # earlier releases import IPython's backend2gui, removed in IPython 9.16
    # TensorFlow 2.18 supports NumPy 2, but TF < 2.20 caps protobuf below 6 while the tensorflow-metadata
    # that TFDS resolves to needs a newer protobuf runtime: `import tensorflow_datasets` fails below 2.20.
    ("tensorflow-cpu", "2.20", None), ("tensorflow", "2.20", None),
    ("keras", "3.10", None),  # what TensorFlow 2.20 requires
    # xai cuts models at a layer; before 3.14 Keras accepts a cut inside a skip connection and fails
    # later with a bare KeyError, instead of the ValueError xai turns into a clear message.
    ("keras", "3.14", r"keras\.Model\(features, rewired\.output\)"),
    # Earlier TFDS releases read FieldDescriptor.label, gone in protobuf 7 (which TF 2.20 lets in).
    ("tensorflow-datasets", "4.9.10", None),
]


def declared() -> dict[str, Requirement]:
    requirements = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        requirements += [Requirement(line) for line in extra]
    return {_normal(req.name): req for req in requirements}


def pins() -> dict[str, Version]:
    pinned = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[_normal(name)] = Version(version.strip())
    return pinned


def floor(requirement: Requirement) -> Version | None:
    lows = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    return max(lows, default=None)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "reportgen").rglob("*.py"))


@pytest.mark.parametrize("library, needed, usage", KNOWN_NEEDS, ids=[need[0] for need in KNOWN_NEEDS])
def test_each_floor_covers_what_the_code_uses(library, needed, usage):
    if usage is not None:
        assert re.search(usage, package_source()), f"the code no longer uses {usage}: update KNOWN_NEEDS"
    requirement = declared().get(_normal(library))
    assert requirement is not None, f"{library} is used but not declared in pyproject.toml"
    assert floor(requirement) is not None and floor(requirement) >= Version(needed), (
        f"pyproject.toml declares {requirement}, but the code needs {library}>={needed}")


def test_every_pin_satisfies_its_declared_range():
    requirements = declared()
    for name, version in pins().items():
        if name in requirements:
            assert version in requirements[name].specifier, f"constraints.txt pins {name}=={version}, " \
                                                            f"outside pyproject's {requirements[name]}"


def test_python_floor_is_one_every_pinned_library_supports():
    python_floor = SpecifierSet(PYPROJECT["project"]["requires-python"])
    lowest = min(Version(spec.version) for spec in python_floor if spec.operator == ">=")
    checked = 0
    for name, version in pins().items():
        try:
            installed = importlib.metadata.metadata(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if Version(installed["Version"]) != version or not installed.get("Requires-Python"):
            continue  # only the pinned release's metadata says what the pin needs
        needs = SpecifierSet(installed["Requires-Python"])
        assert lowest in needs, (f"requires-python {python_floor} admits Python {lowest}, but the pinned "
                                 f"{name}=={version} needs Python {needs}")
        checked += 1
    if checked < 5:
        pytest.skip("the pinned versions are not installed here (a floors install?): nothing to compare")


def floors_as_constraints(extras: list[str]) -> str:
    """`name==floor` for the dependencies and the given extras: the oldest install pyproject allows."""
    lines = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    for extra in extras:
        lines += [Requirement(line) for line in PYPROJECT["project"]["optional-dependencies"][extra]]
    return "\n".join(f"{req.name}=={floor(req)}" for req in lines if floor(req) is not None) + "\n"


if __name__ == "__main__":
    import sys

    print(floors_as_constraints(sys.argv[1:]), end="")

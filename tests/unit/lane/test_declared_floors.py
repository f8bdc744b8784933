"""The dependency floors are declared once in substance: every file that states them says the same.

meta/runtime.yml (ansible-core) and galaxy.yml (ansible.windows) are what the lane reads and tests; requirements.txt,
execution-environment.yml, ee-requirements.in / ee-constraints.txt, README.md and docs/awx.md must agree with them.
"""

import os
import re
import shutil

import pytest
import yaml
from lane_helpers import REPO, lane
from packaging.specifiers import SpecifierSet
from packaging.version import Version

FILES = ["meta/runtime.yml", "galaxy.yml", "requirements.txt", "execution-environment.yml", "ee-requirements.in",
         "ee-constraints.txt", "README.md", "docs/awx.md"]


@pytest.fixture
def copy(tmp_path):
    for name in FILES:
        os.makedirs(tmp_path / os.path.dirname(name), exist_ok=True)
        shutil.copy(os.path.join(REPO, name), tmp_path / name)
    return tmp_path


def edit(root, name, old, new):
    path = root / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def test_every_file_states_the_same_floors():
    assert lane.floor_mismatches() == []


def test_declared_floors():
    decl = lane.declared()
    runtime = yaml.safe_load(open(os.path.join(REPO, "meta", "runtime.yml")))
    assert Version(decl.ansible_core) in SpecifierSet(runtime["requires_ansible"])
    assert Version(decl.ansible_windows) in SpecifierSet(decl.ansible_windows_spec)
    # Every Python requirement has a floor the lane installs.
    assert set(decl.python) == {"cryptography", "asn1crypto", "pywinrm"}


def test_declared_floors_can_be_tested_here():
    """The ansible.windows floor and the newest allowed version are both in a PyPI ansible wheel the lane knows."""
    decl = lane.declared()
    data = lane.lane_data()
    assert decl.ansible_windows in data["ansible_windows_in_ansible"]
    newest = lane.newest_windows(decl, data)
    assert Version(newest) in SpecifierSet(decl.ansible_windows_spec)
    assert Version(newest) >= Version(decl.ansible_windows)


@pytest.mark.parametrize("name, old, new, expected", [
    ("execution-environment.yml", 'version: ">=3.7.0,<4.0.0"', 'version: ">=2.0.0,<4.0.0"',
     "execution-environment.yml ansible.windows"),
    ("meta/runtime.yml", ">=2.16.0", ">=2.15.0", "meta/runtime.yml requires_ansible floor 2.15.0"),
    ("requirements.txt", "cryptography>=45,<51", "cryptography>=43,<51", "python cryptography"),
    ("requirements.txt", "ansible-core>=2.16,<2.20", "ansible-core>=2.16,<2.21", "ansible_core"),
    ("ee-requirements.in", "asn1crypto>=1.5,<2", "asn1crypto>=1.4,<2", "ee-requirements.in asn1crypto"),
    ("ee-constraints.txt", "cryptography==", "cryptography==44.0.0\n    # was ", "ee-constraints.txt pins cryptography"),
    ("README.md", "| ansible.windows | ansible.windows 3.7.0", "| ansible.windows | ansible.windows 3.1.0",
     "README.md does not state the ansible.windows"),
    ("README.md", "| ansible-core | ansible-core 2.16 to 2.19", "| ansible-core | ansible-core 2.15 to 2.19",
     "README.md does not state the ansible-core range"),
    ("docs/awx.md", "ansible-core 2.16 to 2.19", "ansible-core 2.16 to 2.18", "docs/awx.md does not state"),
])
def test_a_disagreeing_copy_is_reported(copy, name, old, new, expected):
    edit(copy, name, old, new)
    problems = lane.floor_mismatches(str(copy))
    assert any(expected in p for p in problems), problems


def test_a_floor_without_lower_bound_is_refused(copy):
    edit(copy, "galaxy.yml", 'ansible.windows: ">=3.7.0,<4.0.0"', 'ansible.windows: "*"')
    problems = lane.floor_mismatches(str(copy))
    assert problems and "no single lower bound" in problems[0]


def test_a_floor_no_wheel_carries_cannot_be_tested():
    with pytest.raises(lane.LaneError, match=r"ansible.windows 3\.1\.0 is not in any ansible wheel.*declare one of"):
        lane.windows_tree("3.1.0", lane.lane_data())


def test_version_table_names_its_sources_and_is_ordered():
    text = open(lane.DATA).read()
    assert "ansible-build-data" in text and "MANIFEST.json" in text and "CHANGELOG.rst" in text
    releases = lane.lane_data()["ansible_windows_in_ansible"]
    windows = sorted(releases, key=Version)
    assert [Version(releases[w]) for w in windows] == sorted(Version(releases[w]) for w in windows)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in list(releases) + list(releases.values()))

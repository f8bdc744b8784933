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
    if decl.ansible_windows is None:  # no dependency declared: the lanes run with an empty collections path
        tree = lane.windows_tree(None, data)
        assert os.listdir(os.path.join(tree, "ansible_collections")) == []
        return
    assert decl.ansible_windows in data["ansible_windows_in_ansible"]
    newest = lane.newest_windows(decl, data)
    assert Version(newest) in SpecifierSet(decl.ansible_windows_spec)
    assert Version(newest) >= Version(decl.ansible_windows)


def mutations():
    """(file, text, replacement, expected problem): one declaration changed in a copy, built from today's floors."""
    decl = lane.declared()
    core_range = f"ansible-core {lane._minor(decl.ansible_core)} to {lane.newest_minor(decl.ansible_core_spec)}"
    older_core = f"{Version(decl.ansible_core).major}.{Version(decl.ansible_core).minor - 1}"
    windows_row = f"| ansible.windows | ansible.windows {decl.ansible_windows}"
    crypto = f"cryptography>={decl.python['cryptography']}"
    return [
        ("execution-environment.yml", f'version: "{decl.ansible_windows_spec}"', 'version: ">=1.0.0,<4.0.0"',
         "execution-environment.yml ansible.windows"),
        ("meta/runtime.yml", f">={decl.ansible_core}", f">={older_core}.0",
         f"meta/runtime.yml requires_ansible floor {older_core}.0"),
        ("requirements.txt", crypto, "cryptography>=1", "python cryptography"),
        ("requirements.txt", f"ansible-core>={lane._minor(decl.ansible_core)}", "ansible-core>=2.0",
         "execution-environment.yml ansible_core"),
        ("ee-requirements.in", f"asn1crypto>={decl.python['asn1crypto']}", "asn1crypto>=1.0", "ee-requirements.in asn1crypto"),
        ("ee-constraints.txt", "cryptography==", "cryptography==1.0\n    # was ", "ee-constraints.txt pins cryptography"),
        ("README.md", windows_row, "| ansible.windows | ansible.windows 0.9.0", "README.md does not state the ansible.windows"),
        ("README.md", f"| ansible-core | {core_range}", "| ansible-core | ansible-core 2.0 to 2.19",
         "README.md does not state the ansible-core range"),
        ("docs/awx.md", core_range, "ansible-core 2.0 to 2.19", "docs/awx.md does not state"),
    ]


@pytest.mark.parametrize("name, old, new, expected", mutations())
def test_a_disagreeing_copy_is_reported(copy, name, old, new, expected):
    edit(copy, name, old, new)
    problems = lane.floor_mismatches(str(copy))
    assert any(expected in p for p in problems), problems


def test_a_floor_without_lower_bound_is_refused(copy):
    edit(copy, "galaxy.yml", f'ansible.windows: "{lane.declared().ansible_windows_spec}"', 'ansible.windows: "*"')
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


def test_no_ansible_windows_dependency_is_a_declaration_too(copy):
    galaxy = yaml.safe_load((copy / "galaxy.yml").read_text())
    del galaxy["dependencies"]["ansible.windows"]
    (copy / "galaxy.yml").write_text(yaml.safe_dump(galaxy))
    decl = lane.declared(str(copy))
    assert (decl.ansible_windows, decl.ansible_windows_spec) == (None, None)
    assert lane.newest_windows(decl, lane.lane_data()) is None
    # The README must not keep promising a floor nobody declares.
    problems = lane.floor_mismatches(str(copy))
    assert problems == ["README.md states an ansible.windows floor, galaxy.yml declares no ansible.windows"], problems

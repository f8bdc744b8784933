"""The minimum-versions lane: the role and playbooks under ansible-playbook against the test double, with the oldest
ansible-core and ansible.windows (and Python requirements) the collection declares, and with the newest.

hack/lane.py reads the floors from meta/runtime.yml, galaxy.yml and requirements.txt, so this tests whatever is
declared. Each lane is two ansible-playbook runs (see lane.run_scenario); the venv and collections are cached under
.build/lane (make lane-env builds them).
"""

import os
import shutil

import pytest
import yaml
from lane_helpers import REPO, lane

pytestmark = pytest.mark.slow
INSTALLED = os.path.join(REPO, ".build", "collections")


@pytest.fixture(scope="module")
def lanes():
    return {item.name: item for item in lane.prepare("all")}


# The newest lane's playbook run only in `make lane` (APEXONE_LANE_NEWEST=1): make test runs the whole suite with the
# newest ansible-core, and test_option_check.py scans the tasks against the newest ansible.windows.
LANES = ["floor", "newest"] if os.environ.get("APEXONE_LANE_NEWEST") == "1" else ["floor"]


@pytest.mark.parametrize("which", LANES)
def test_role_and_playbooks_pass_on_the_lane(lanes, which, tmp_path):
    chosen = lanes[which]
    decl = lane.declared()
    if which == "floor":
        assert (chosen.ansible_core, chosen.ansible_windows) == (decl.ansible_core, decl.ansible_windows)
        with open(os.path.join(os.path.dirname(chosen.bin), ".lane-ok")) as stamp:
            assert stamp.read().split() == lane.floor_pins(decl)  # exactly the declared floors were installed
    result = lane.run_scenario(chosen, str(tmp_path))
    print(f"lane {which} (ansible-core {chosen.ansible_core}, ansible.windows {chosen.ansible_windows}): "
          f"{result.seconds:.1f}s")
    assert result.problems == [], "\n".join(result.problems) + "\n" + result.output[-4000:]
    # Both hosts went through the whole procedure; apex01 was rolled back, apex02 replaced and then rolled back.
    assert result.called["apex01"][0] == "win_server_info" and "win_cert_persistence" in result.called["apex01"]
    assert "win_iis_https_binding" in result.called["apex02"]


def _broken_copy(tmp_path, specs):
    """The installed collection with one option added to a Windows task that the module's spec does not have."""
    root = tmp_path / "collections"
    installed = os.path.join(INSTALLED, "ansible_collections", "apexone", "certificates")
    target = root / "ansible_collections" / "apexone" / "certificates"
    shutil.copytree(installed, target, symlinks=True)
    uses = lane.windows_uses(str(target))
    # Prefer an ansible.windows module whose spec the lane knows; else the collection's own module in the same file.
    use = next((u for u in uses if u.module in specs), None)
    path = target / (use.path if use else "roles/webhost_certificate/tasks/apply.yml")
    tasks = yaml.safe_load(path.read_text())

    def patch(node):
        for task in node if isinstance(node, list) else []:
            for key in ("block", "rescue", "always"):
                found = patch(task.get(key))
                if found:
                    return found
            module = next((k for k in task if k.startswith(("ansible.windows.", "apexone.certificates.win_"))), None)
            if module and (use is None or (task.get("name") == use.task and module.endswith(use.module))):
                task[module] = dict(task[module] or {}, lane_option_missing_in_floor=1)
                return module.rsplit(".", 1)[-1]
        return None

    module = patch(tasks)
    assert module, f"no Windows task to break in {path}"
    path.write_text(yaml.safe_dump(tasks, sort_keys=False))
    return str(root), module


def test_the_lane_fails_when_a_task_passes_an_option_the_floor_lacks(lanes, tmp_path):
    floor = lanes["floor"]
    specs = lane.module_specs([os.path.join(floor.windows_path, lane.WINDOWS_SUBDIR, "plugins", "modules")])
    collections, module = _broken_copy(tmp_path, specs)
    workdir = tmp_path / "run"
    workdir.mkdir()
    result = lane.run_scenario(floor, str(workdir), collections=collections)
    assert result.problems, "the lane passed a role whose task sends an option its module does not have"
    assert f"Unsupported parameters for ({module}) module: lane_option_missing_in_floor" in result.output

"""The lane's two option checks: the static one (every ansible.windows option the roles/playbooks use exists in the
floor's documentation) and the one the lane's connection plugin applies to every module call (the argument spec of
the module source Ansible sent), each shown failing on a broken copy.
"""

import os
import shutil
import sys

import pytest
import yaml
from lane_helpers import REPO, lane

sys.path.insert(0, os.path.join(REPO, "tests", "lane", "connection_plugins"))

import apexone_lane

# In ansible.windows 3.8.0, not in 3.7.0 or older (a new option of win_updates, a new module), from their docs.
NEWER_THAN_FLOOR = [
    {"name": "Install updates with retries", "ansible.windows.win_updates": {
        "category_names": ["SecurityUpdates"], "maximum_retries_on_failed_updates": 2}},
    {"name": "Is a reboot pending", "ansible.windows.win_reboot_info": {}},
]


@pytest.fixture(scope="module")
def floor():
    decl = lane.declared()
    return decl, lane.windows_tree(decl.ansible_windows, lane.lane_data())


@pytest.fixture(scope="module")
def newest():
    decl = lane.declared()
    version = lane.newest_windows(decl, lane.lane_data())
    return version, lane.windows_tree(version, lane.lane_data())


@pytest.fixture
def broken(tmp_path):
    """A copy of the roles and playbooks whose apply step uses what only a newer ansible.windows has."""
    for folder in ("roles", "playbooks"):
        shutil.copytree(os.path.join(REPO, folder), tmp_path / folder)
    path = tmp_path / "roles" / "webhost_certificate" / "tasks" / "apply.yml"
    tasks = yaml.safe_load(path.read_text())
    tasks.extend(NEWER_THAN_FLOOR)
    path.write_text(yaml.safe_dump(tasks, sort_keys=False))
    return tmp_path


def test_the_roles_and_playbooks_use_only_what_the_floor_has(floor):
    decl, tree = floor
    uses = lane.windows_uses(REPO)
    problems = lane.check(REPO, tree, decl.ansible_windows, decl.ansible_core)
    assert problems == [], "\n".join(problems)
    # The scan sees the tasks (blocks and rescue included), or the empty result above would prove nothing.
    assert all(u.path.startswith(("roles/", "playbooks/")) and u.options is not None for u in uses)


def test_the_roles_and_playbooks_use_only_what_the_newest_has(newest):
    """The same scan against the newest ansible.windows the collection allows (an option removed later shows here).
    The newest lane's playbook run (tests/unit/lane/test_min_versions.py) runs in make lane only."""
    version, tree = newest
    problems = lane.check(REPO, tree, version, lane.declared().ansible_core)
    assert problems == [], "\n".join(problems)


def test_an_option_or_module_missing_in_the_floor_is_reported(floor, newest, broken):
    decl, tree = floor
    problems = lane.check(str(broken), tree, decl.ansible_windows, decl.ansible_core)
    text = "\n".join(problems)
    assert (f"task 'Install updates with retries': ansible.windows.win_updates in ansible.windows {decl.ansible_windows}"
            " has no option maximum_retries_on_failed_updates") in text
    assert f"ansible.windows.win_reboot_info does not exist in ansible.windows {decl.ansible_windows}" in text
    assert all(p.startswith("roles/webhost_certificate/tasks/apply.yml") for p in problems), problems
    # The same copy is fine for the newest ansible.windows: the check reads each version's own documentation.
    version, newest_tree = newest
    assert lane.check(str(broken), newest_tree, version, decl.ansible_core) == []


def test_an_option_that_also_needs_a_newer_ansible_core_is_reported(newest, tmp_path):
    """win_powershell `path` is documented from 3.1.0 but works on ansible-core < 2.19 only from 3.7.0.

    The check of that need uses the versions only (tests/lane/versions.yml, from the ansible.windows changelog), so it
    is shown with the newest tree's documentation (which has `path`) and the versions of the pair that fails:
    ansible-core 2.16 with ansible.windows 3.2.0 (the lane run of that pair fails with "'DataLoader' object has no
    attribute 'get_text_file_contents'").
    """
    _version, tree = newest
    tasks = tmp_path / "roles" / "r" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(yaml.safe_dump([
        {"name": "Run a script from the controller", "ansible.windows.win_powershell": {"path": "files/x.ps1"}}]))
    problems = lane.check(str(tmp_path), tree, "3.2.0", "2.16.0")
    assert len(problems) == 1 and "option path with ansible-core 2.16.0 needs ansible.windows >= 3.7.0" in problems[0]
    assert lane.check(str(tmp_path), tree, "3.2.0", "2.19.0") == []
    assert lane.check(str(tmp_path), tree, "3.7.0", "2.16.0") == []


def test_task_forms_the_scan_understands(tmp_path):
    tasks = tmp_path / "playbooks"
    tasks.mkdir()
    (tasks / "p.yml").write_text(yaml.safe_dump([{
        "name": "play", "hosts": "all",
        "tasks": [{"block": [{"name": "a", "ansible.windows.win_copy": "src=a dest=b remote_src=true"}],
                   "rescue": [{"name": "b", "ansible.windows.win_shell": "whoami", "args": {"chdir": "C:\\"}}]}],
        "handlers": [{"name": "c", "win_service": {"name": "x", "state": "restarted"}}]}]))
    uses = {u.task: (u.module, u.options) for u in lane.windows_uses(str(tmp_path))}
    assert uses == {"a": ("win_copy", ["dest", "remote_src", "src"]), "b": ("win_shell", ["chdir"]),
                    "c": ("win_service", ["name", "state"])}


def test_the_lane_connection_rejects_what_the_module_spec_lacks(newest):
    _version, tree = newest
    specs = lane.module_specs([os.path.join(tree, lane.WINDOWS_SUBDIR, "plugins", "modules"),
                               os.path.join(REPO, "plugins", "modules")])
    assert {"path", "script", "parameters"} <= set(specs["win_powershell"]["options"])
    assert "win_copy" not in specs  # legacy Parse-Args module: Windows accepts any option, so does the lane
    assert "win_server_info" in specs  # the collection's own modules are checked too
    args = {"path": "x.ps1", "parameters": {}, "_ansible_check_mode": False}
    assert apexone_lane.option_problem("ansible.windows.win_powershell", args, specs) is None
    problem = apexone_lane.option_problem("ansible.windows.win_powershell", dict(args, timeout=30), specs)
    assert problem.startswith("Unsupported parameters for (win_powershell) module: timeout. Supported parameters")
    # The spec of ansible.windows 2.8.0's win_powershell: no path, script required (what Ansible.Basic reports).
    old = {"win_powershell": {"options": sorted(set(specs["win_powershell"]["options"]) - {"path", "remote_src"}),
                              "required": ["script"]}}
    assert apexone_lane.option_problem("win_powershell", args, old).startswith(
        "Unsupported parameters for (win_powershell) module: path.")
    assert apexone_lane.option_problem("win_powershell", {"parameters": {}}, old) == "missing required arguments: script"
    assert apexone_lane.option_problem("win_copy", {"anything": 1}, specs) is None


def test_a_windows_task_without_declared_dependency_is_reported(broken):
    empty = lane.windows_tree(None, lane.lane_data())
    problems = lane.check(str(broken), empty, None, lane.declared().ansible_core)
    assert any("uses ansible.windows.win_updates, but galaxy.yml declares no ansible.windows dependency" in p
               for p in problems), problems


def test_module_utils_from_ansible_windows_exist_in_the_floor(floor, newest):
    decl, tree = floor
    _version, newest_tree = newest
    assert lane.util_problems(REPO, tree, decl.ansible_windows, newest_tree) == []


def _floor_copy(tree, tmp_path, edit):
    copy = tmp_path / "floor"
    shutil.copytree(tree, copy)
    utils = copy / lane.WINDOWS_SUBDIR / "plugins" / "module_utils"
    edit(utils)
    return str(copy)


def test_a_module_util_or_member_the_floor_lacks_is_reported(floor, newest, tmp_path):
    """A floor whose SCManager lacks DependedBy (as if it were added later), and one without SCManager at all."""
    _decl, tree = floor
    _version, newest_tree = newest
    users = [p for p in sorted(os.listdir(os.path.join(REPO, "plugins", "modules"))) if p.endswith(".ps1")
             and "module_utils.SCManager" in open(os.path.join(REPO, "plugins", "modules", p)).read()]
    assert users, "no module uses ansible.windows' SCManager any more: pick another util for this test"

    def without_member(utils):
        path = utils / "SCManager.cs"
        path.write_text(path.read_text().replace("DependedBy", "DependentServices"))

    problems = lane.util_problems(REPO, _floor_copy(tree, tmp_path, without_member), "0.0.1", newest_tree)
    assert any("uses DependedBy of the ansible.windows module_util SCManager, which ansible.windows 0.0.1 does not "
               "have" in p for p in problems), problems
    missing = _floor_copy(tree, tmp_path / "2", lambda utils: (utils / "SCManager.cs").unlink())
    problems = lane.util_problems(REPO, missing, "0.0.1", newest_tree)
    assert sorted(p.split(":")[0] for p in problems) == [f"plugins/modules/{u}" for u in users]
    assert all("requires the ansible.windows module_util SCManager, which ansible.windows 0.0.1 does not have" in p
               for p in problems)


def test_win_powershell_path_is_missing_in_ansible_windows_2(tmp_path):
    """Real data: ansible.windows 2.1.0 documents no `path` for win_powershell (added in 3.1.0), and its $spec
    (what Ansible.Basic would check on Windows, and the lane's connection does) rejects it."""
    tree = lane.windows_tree("2.1.0", lane.lane_data())
    tasks = tmp_path / "roles" / "r" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(yaml.safe_dump([
        {"name": "Run a script from the controller", "ansible.windows.win_powershell": {"path": "files/x.ps1"}}]))
    problems = lane.check(str(tmp_path), tree, "2.1.0", "2.16.0")
    assert "ansible.windows.win_powershell in ansible.windows 2.1.0 has no option path" in problems[0], problems
    specs = lane.module_specs([os.path.join(tree, lane.WINDOWS_SUBDIR, "plugins", "modules")])
    assert apexone_lane.option_problem("win_powershell", {"path": "x.ps1"}, specs).startswith(
        "Unsupported parameters for (win_powershell) module: path.")

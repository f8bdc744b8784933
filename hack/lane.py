"""Minimum-versions lane: the role and playbooks with the oldest ansible-core and ansible.windows the collection
declares, and with the newest.

The floors are read from the declarations themselves, so the lane tests whatever is declared:

- ansible-core: the lower bound of ``requires_ansible`` in meta/runtime.yml;
- ansible.windows: the lower bound of ``dependencies`` in galaxy.yml (the newest: the highest version of
  tests/lane/versions.yml inside that range);
- Python packages: the lower bound of every line of requirements.txt (the floor venv installs exactly those).

tests/unit/lane/test_declared_floors.py checks that requirements.txt, execution-environment.yml and the AWX
pieces say the same. Usage (the Makefile runs ``prepare``; tests/unit/lane runs ``check`` and the scenario)::

  lane.py floors                  print the declared floors
  lane.py prepare                 build/refresh the cached floor venv and both ansible.windows trees under .build/lane
  lane.py check [--root DIR]      static check: every ansible.windows option the role/playbooks use exists in the floor
  lane.py run [floor|newest]      the playbook scenario against the test double, with its duration
  lane.py lowest [--run]          the oldest ansible.windows the roles/playbooks could declare (downloads candidates)
"""

from __future__ import annotations

import argparse
import ast
import copy
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANE_DIR = os.path.join(REPO, ".build", "lane")
DATA = os.path.join(REPO, "tests", "lane", "versions.yml")
LANE_PLUGINS = os.path.join(REPO, "tests", "lane", "connection_plugins")
WINDOWS_SUBDIR = os.path.join("ansible_collections", "ansible", "windows")
# Where the role and playbooks live, relative to a collection root (the source tree or an installed copy).
TASK_GLOBS = ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml", "playbooks/tasks/*.yml")
TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
# Task keywords (ansible-core's Task/Block attributes) that are never a module name.
NOT_MODULES = {"args", "name", "when", "vars", "register", "loop", "loop_control", "tags", "notify", "delegate_to"}


class LaneError(Exception):
    """A lane that cannot be prepared or run; the message says what to do."""


# ----------------------------------------------------------------------------------------------- declarations
def _lower_bound(spec: str, what: str) -> str:
    try:
        bounds = [s.version for s in SpecifierSet(spec) if s.operator in (">=", "==", "~=")]
    except InvalidSpecifier:
        bounds = []  # '*' (any version, in galaxy.yml) or a typo
    if len(bounds) != 1:
        raise LaneError(f"{what}: '{spec}' has no single lower bound (>=X); declare one so the lane can test it")
    return bounds[0]


def read_yaml(path: str):
    with open(path) as handle:
        return yaml.safe_load(handle)


def requirements(path: str) -> dict[str, Requirement]:
    with open(path) as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return {r.name.lower(): r for r in (Requirement(line) for line in lines if line and not line.startswith("-"))}


@dataclass
class Declared:
    """The dependency floors the collection declares, read from the files users and tools read."""

    ansible_core: str  # floor (meta/runtime.yml requires_ansible)
    ansible_core_spec: str  # requirements.txt (upper bound: the newest the collection supports)
    ansible_windows: str | None  # floor (galaxy.yml dependencies); None: the collection declares no ansible.windows
    ansible_windows_spec: str | None
    python: dict[str, str] = field(default_factory=dict)  # requirements.txt lower bounds, ansible-core excluded


def declared(root: str = REPO) -> Declared:
    runtime = read_yaml(os.path.join(root, "meta", "runtime.yml"))
    galaxy = read_yaml(os.path.join(root, "galaxy.yml"))
    reqs = requirements(os.path.join(root, "requirements.txt"))
    # No ansible.windows dependency is a declaration too: then the lanes run without any ansible.windows.
    windows_spec = (galaxy.get("dependencies") or {}).get("ansible.windows")
    return Declared(
        ansible_core=_lower_bound(runtime["requires_ansible"], "meta/runtime.yml requires_ansible"),
        ansible_core_spec=str(reqs["ansible-core"].specifier),
        ansible_windows=_lower_bound(windows_spec, "galaxy.yml dependencies ansible.windows") if windows_spec else None,
        ansible_windows_spec=windows_spec,
        python={name: _lower_bound(str(r.specifier), f"requirements.txt {name}")
                for name, r in reqs.items() if name != "ansible-core"},
    )


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def newest_minor(spec: str) -> str:
    """The last minor release a range like '>=2.16,<2.20' admits ('2.19')."""
    uppers = [Version(s.version) for s in SpecifierSet(spec) if s.operator == "<"]
    if len(uppers) != 1 or uppers[0].micro or uppers[0].minor == 0:
        raise LaneError(f"'{spec}' needs one upper bound of the form <X.Y")
    return f"{uppers[0].major}.{uppers[0].minor - 1}"


def floor_mismatches(root: str = REPO) -> list[str]:
    """Where the declared dependency floors (and ranges) disagree; empty when every file says the same.

    Sources: meta/runtime.yml (requires_ansible) and galaxy.yml (ansible.windows) are what ansible-galaxy reads;
    requirements.txt what pip reads; execution-environment.yml and ee-requirements.in / ee-constraints.txt what
    the AWX execution environment is built from; README.md and docs/awx.md what people read.
    """
    problems = []
    try:
        decl = declared(root)
    except (LaneError, KeyError) as exc:
        return [str(exc)]
    reqs = requirements(os.path.join(root, "requirements.txt"))
    ee = read_yaml(os.path.join(root, "execution-environment.yml"))
    deps = ee["dependencies"]
    if Version(decl.ansible_core) != Version(_lower_bound(decl.ansible_core_spec, "requirements.txt ansible-core")):
        problems.append(f"meta/runtime.yml requires_ansible floor {decl.ansible_core} != requirements.txt "
                        f"ansible-core '{decl.ansible_core_spec}'")
    core_ee = Requirement(deps["ansible_core"]["package_pip"])
    if str(core_ee.specifier) != decl.ansible_core_spec:
        problems.append(f"execution-environment.yml ansible_core '{core_ee.specifier}' != requirements.txt "
                        f"'{decl.ansible_core_spec}'")
    windows_ee = [c for c in deps["galaxy"]["collections"] if c.get("name") == "ansible.windows"]
    if decl.ansible_windows_spec is None:
        pass  # the EE may still carry ansible.windows for the users' own tasks
    elif not windows_ee or SpecifierSet(str(windows_ee[0].get("version", ""))) != SpecifierSet(decl.ansible_windows_spec):
        problems.append(f"execution-environment.yml ansible.windows '{windows_ee[0].get('version') if windows_ee else None}'"
                        f" != galaxy.yml '{decl.ansible_windows_spec}'")
    ee_python = {r.name.lower(): r for r in map(Requirement, deps.get("python") or [])}
    lock_in = requirements(os.path.join(root, "ee-requirements.in"))
    for name, req in reqs.items():
        if name != "ansible-core" and (name not in ee_python or ee_python[name].specifier != req.specifier):
            problems.append(f"execution-environment.yml python {name} "
                            f"'{ee_python[name].specifier if name in ee_python else 'missing'}' != requirements.txt "
                            f"'{req.specifier}'")
        if name not in lock_in or lock_in[name].specifier != req.specifier:
            problems.append(f"ee-requirements.in {name} '{lock_in[name].specifier if name in lock_in else 'missing'}' "
                            f"!= requirements.txt '{req.specifier}' (then run make ee-lock)")
    runner = Requirement(deps["ansible_runner"]["package_pip"])
    if "ansible-runner" not in lock_in or lock_in["ansible-runner"].specifier != runner.specifier:
        problems.append(f"ee-requirements.in ansible-runner != execution-environment.yml '{runner.specifier}'")
    pins = locked_pins(os.path.join(root, "ee-constraints.txt"))
    for name, req in lock_in.items():
        if name not in pins:
            problems.append(f"ee-constraints.txt has no pin for {name}: run make ee-lock")
        elif Version(pins[name]) not in req.specifier:
            problems.append(f"ee-constraints.txt pins {name}=={pins[name]}, outside ee-requirements.in "
                            f"'{req.specifier}': run make ee-lock")
    readme = open(os.path.join(root, "README.md")).read()
    core_range = f"ansible-core {_minor(decl.ansible_core)} to {newest_minor(decl.ansible_core_spec)}"
    # The rows of the controller table in README.md's "Supported versions".
    rows = [(f"| ansible-core | {core_range} ", "the ansible-core range")]
    if decl.ansible_windows:
        rows.append((f"| ansible.windows | ansible.windows {decl.ansible_windows} or later", "the ansible.windows floor"))
    elif "| ansible.windows | ansible.windows " in readme:
        problems.append("README.md states an ansible.windows floor, galaxy.yml declares no ansible.windows")
    for text, what in rows:
        if text not in readme:
            problems.append(f"README.md does not state {what} ('{text}')")
    awx_doc = open(os.path.join(root, "docs", "awx.md")).read()
    if core_range not in awx_doc:
        problems.append(f"docs/awx.md does not state the ansible-core range ('{core_range}')")
    return problems


def locked_pins(path: str) -> dict[str, str]:
    """{name: version} of a pip-compile style lock file (``name==version \\`` lines)."""
    pins = {}
    with open(path) as handle:
        for line in handle:
            if line and not line[0].isspace() and "==" in line and not line.startswith("#"):
                req = Requirement(line.split(" \\")[0].strip())
                pins[req.name.lower().replace("_", "-")] = next(iter(req.specifier)).version
    return pins


def lock_problems(path: str) -> list[str]:
    """Lines of a hash-locked constraints file that are not ``name==version`` with at least one sha256 hash."""
    problems, entry = [], None
    with open(path) as handle:
        lines = handle.read().splitlines()

    def close(entry):
        if entry and not entry[1]:
            problems.append(f"line {entry[2]}: {entry[0]} has no --hash=sha256:...")

    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line.startswith("-"):
            problems.append(f"line {number}: unexpected option line '{stripped}' (the lock names no index or links)")
            continue
        if not line[0].isspace():
            close(entry)
            requirement = stripped.rstrip("\\").strip()
            if "==" not in requirement or any(c in requirement for c in "<>~!;["):
                problems.append(f"line {number}: '{requirement}' is not pinned with == (or carries extras/markers)")
            entry = [requirement, 0, number]
        elif stripped.startswith("--hash="):
            if entry is None or not re_sha256(stripped):
                problems.append(f"line {number}: '{stripped}' is not a --hash=sha256:<64 hex> of a pinned package")
            else:
                entry[1] += 1
        else:
            problems.append(f"line {number}: unexpected '{stripped}' (only pins, hashes and comments)")
    close(entry)
    return problems


def re_sha256(text: str) -> bool:
    return re.fullmatch(r"--hash=sha256:[0-9a-f]{64}( \\)?", text) is not None


def lane_data() -> dict:
    return read_yaml(DATA)


def newest_windows(decl: Declared, data: dict) -> str | None:
    if decl.ansible_windows_spec is None:
        return None
    spec = SpecifierSet(decl.ansible_windows_spec)
    known = [v for v in data["ansible_windows_in_ansible"] if Version(v) in spec]
    if not known:
        raise LaneError(f"no ansible.windows version in tests/lane/versions.yml satisfies galaxy.yml '{spec}'")
    return max(known, key=Version)


# ---------------------------------------------------------------------------------------------- preparation
def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise LaneError(f"{what} failed ({' '.join(cmd[:4])} ...):\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return proc


def floor_pins(decl: Declared) -> list[str]:
    return [f"ansible-core=={decl.ansible_core}"] + [f"{n}=={v}" for n, v in sorted(decl.python.items())]


def floor_venv(decl: Declared) -> str:
    """A venv with ansible-core and every Python requirement at its declared floor, cached by those pins."""
    pins = floor_pins(decl)
    key = hashlib.sha256("\n".join([sys.version.split()[0], *pins]).encode()).hexdigest()[:12]
    venv = os.path.join(LANE_DIR, f"venv-{decl.ansible_core}-{key}")
    stamp = os.path.join(venv, ".lane-ok")
    if os.path.exists(stamp):
        return venv
    # Another key means other floors: the old venv is of no use any more.
    for stale in glob.glob(os.path.join(LANE_DIR, "venv-*")):
        shutil.rmtree(stale, ignore_errors=True)
    os.makedirs(LANE_DIR, exist_ok=True)
    _run([sys.executable, "-m", "venv", venv], "creating the floor venv")
    python = os.path.join(venv, "bin", "python")
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
         f"installing the declared floors ({', '.join(pins)}) with Python {sys.version.split()[0]}: if a floor "
         "does not install here, raise it to one that does and say why in the changelog")
    with open(stamp, "w") as handle:
        handle.write("\n".join(pins) + "\n")
    return venv


def windows_tree(version: str | None, data: dict) -> str:
    """ansible.windows <version> taken out of the PyPI ansible wheel that carries it, cached under .build/lane.

    None (no ansible.windows declared): an empty collections path, so nothing of ansible.windows can be used.
    """
    if version is None:
        empty = os.path.join(LANE_DIR, "no-ansible.windows", "ansible_collections")
        os.makedirs(empty, exist_ok=True)
        return os.path.dirname(empty)
    releases = data["ansible_windows_in_ansible"]
    if version not in releases:
        raise LaneError(
            f"ansible.windows {version} is not in any ansible wheel listed in tests/lane/versions.yml, so it cannot "
            f"be tested here; declare one of {', '.join(releases)} (or add the release that carries it, with its source)"
        )
    dest = os.path.join(LANE_DIR, f"ansible.windows-{version}")
    stamp = os.path.join(dest, ".lane-ok")
    if os.path.exists(stamp):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(LANE_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=LANE_DIR, prefix="download-") as tmp:
        # Only the collection files are used, never the wheel's own dependencies: --no-deps, and a Python version
        # every listed release accepts (14.x requires Python >= 3.12; nothing of it runs here).
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
              "--only-binary=:all:", "--python-version", "3.12", "-d", tmp, f"ansible=={releases[version]}"],
             f"downloading ansible {releases[version]} (it carries ansible.windows {version})")
        (wheel,) = glob.glob(os.path.join(tmp, "ansible-*.whl"))
        prefix = WINDOWS_SUBDIR.replace(os.sep, "/") + "/"
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.startswith(prefix):
                    archive.extract(member, dest)
    manifest = os.path.join(dest, WINDOWS_SUBDIR, "MANIFEST.json")
    with open(manifest) as handle:
        found = json.load(handle)["collection_info"]["version"]
    if found != version:
        raise LaneError(f"ansible {releases[version]} carries ansible.windows {found}, not {version}: fix versions.yml")
    with open(stamp, "w") as handle:
        handle.write(version + "\n")
    return dest


@dataclass
class Lane:
    name: str
    bin: str  # folder with ansible-playbook and the python the controller-side tasks use
    ansible_core: str
    ansible_windows: str | None
    windows_path: str  # a collections path holding exactly that ansible.windows (or none)


def prepare(which: str = "all", decl: Declared | None = None) -> list[Lane]:
    decl = decl or declared()
    data = lane_data()
    lanes = []
    if which in ("floor", "all"):
        venv = floor_venv(decl)
        lanes.append(Lane("floor", os.path.join(venv, "bin"), decl.ansible_core, decl.ansible_windows,
                          windows_tree(decl.ansible_windows, data)))
    if which in ("newest", "all"):
        import ansible.release

        if Version(ansible.release.__version__) not in SpecifierSet(decl.ansible_core_spec):
            raise LaneError(f"this venv has ansible-core {ansible.release.__version__}, outside requirements.txt "
                            f"'{decl.ansible_core_spec}': run make venv")
        newest = newest_windows(decl, data)
        lanes.append(Lane("newest", os.path.dirname(sys.executable), ansible.release.__version__, newest,
                          windows_tree(newest, data)))
    return lanes


# ----------------------------------------------------------------------------------------------- static check
@dataclass
class Use:
    path: str  # relative to the collection root
    task: str
    module: str  # leaf name, e.g. win_powershell
    options: list[str]


def _tasks(node, path: str, found: list[Use]) -> None:
    if isinstance(node, list):
        for item in node:
            _tasks(item, path, found)
        return
    if not isinstance(node, dict):
        return
    for key in TASK_LISTS:
        if isinstance(node.get(key), list):
            _tasks(node[key], path, found)
    for key, value in node.items():
        if key in NOT_MODULES or not isinstance(key, str):
            continue
        if key.startswith("ansible.windows.") or (key.startswith("win_") and "." not in key):
            options = []
            if isinstance(value, dict):
                options = list(value)
            elif isinstance(value, str):
                from ansible.parsing.splitter import parse_kv

                options = [k for k in parse_kv(value) if not k.startswith("_raw")]
            if isinstance(node.get("args"), dict):
                options += list(node["args"])
            found.append(Use(path, str(node.get("name", "(unnamed)")), key.rsplit(".", 1)[-1], sorted(set(options))))


def windows_uses(root: str = REPO) -> list[Use]:
    """Every task of the roles and playbooks that calls an ansible.windows module, with the options it passes."""
    found: list[Use] = []
    for pattern in TASK_GLOBS:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            _tasks(read_yaml(path), os.path.relpath(path, root), found)
    return found


def _fragment_options(windows_root: str, name: str) -> dict:
    module, _, variable = name.partition(".")
    collection_prefix = "ansible.windows."
    if name.startswith(collection_prefix):
        module, _, variable = name[len(collection_prefix):].partition(".")
        path = os.path.join(windows_root, WINDOWS_SUBDIR, "plugins", "doc_fragments", f"{module}.py")
    else:
        import ansible.plugins.doc_fragments as core

        path = os.path.join(os.path.dirname(core.__file__), f"{module.rsplit('.', 1)[-1]}.py")
    if not os.path.exists(path):
        raise LaneError(f"doc fragment {name} not found ({path})")
    tree = ast.parse(open(path).read())
    wanted = (variable or "DOCUMENTATION").upper()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == wanted:
            return (yaml.safe_load(node.value.value) or {}).get("options") or {}
    raise LaneError(f"doc fragment {name}: no {wanted} in {path}")


def module_options(windows_root: str, module: str) -> dict | None:
    """The documented options (aliases included) of an ansible.windows module, None when the module is missing."""
    base = os.path.join(windows_root, WINDOWS_SUBDIR, "plugins", "modules", module)
    doc = None
    if os.path.exists(base + ".yml"):
        doc = read_yaml(base + ".yml").get("DOCUMENTATION")
    elif os.path.exists(base + ".py"):
        for node in ast.parse(open(base + ".py").read()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
                doc = yaml.safe_load(node.value.value)
    if doc is None:
        return None
    options = dict(doc.get("options") or {})
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        options.update(_fragment_options(windows_root, fragment))
    names = {}
    for name, spec in options.items():
        names[name] = name
        for alias in (spec or {}).get("aliases") or []:
            names[alias] = name
    return names


def check(root: str, windows_root: str, windows_version: str | None, core_floor: str,
          data: dict | None = None) -> list[str]:
    """Problems of the role/playbooks under ``root`` against ansible.windows ``windows_version`` (at ``windows_root``)
    and ansible-core ``core_floor``. Empty when every module and option the tasks use exists there."""
    data = data or lane_data()
    problems = []
    for use in windows_uses(root):
        where = f"{use.path}: task '{use.task}'"
        if windows_version is None:
            problems.append(f"{where}: uses ansible.windows.{use.module}, but galaxy.yml declares no ansible.windows "
                            "dependency")
            continue
        names = module_options(windows_root, use.module)
        if names is None:
            problems.append(f"{where}: ansible.windows.{use.module} does not exist in ansible.windows {windows_version}")
            continue
        missing = [o for o in use.options if o not in names]
        if missing:
            problems.append(f"{where}: ansible.windows.{use.module} in ansible.windows {windows_version} has no option "
                            f"{', '.join(missing)} (it has: {', '.join(sorted(set(names.values())))})")
        for need in data.get("option_needs") or []:
            if (need["module"] == use.module and need["option"] in use.options
                    and Version(core_floor) < Version(need["below_ansible_core"])
                    and Version(windows_version) < Version(need["ansible_windows"])):
                problems.append(f"{where}: ansible.windows.{use.module} option {need['option']} with ansible-core "
                                f"{core_floor} needs ansible.windows >= {need['ansible_windows']}: {need['why']}")
    return problems


UTIL_RE = re.compile(r"#AnsibleRequires\s+-(?:CSharpUtil|PowerShell)\s+ansible_collections\.ansible\.windows\."
                     r"plugins\.module_utils\.(\w+)", re.IGNORECASE)
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9]*)?")
TYPE_RE = re.compile(r"\b(?:class|struct|enum|interface)\s+(\w+)")
PUBLIC_RE = re.compile(r"\bpublic\s+(?:(?:static|readonly|override|virtual|abstract|sealed|new|const|partial)\s+)*"
                       r"(?:[\w.<>\[\],]+\s+)?(\w+)\s*(?:[({=;]|$)", re.MULTILINE)
ENUM_RE = re.compile(r"\benum\s+\w+\s*(?::\s*\w+\s*)?\{([^}]*)\}")
FUNCTION_RE = re.compile(r"^\s*function\s+([\w-]+)", re.IGNORECASE | re.MULTILINE)


def _declared_names(source: str) -> set[str]:
    """The names a module_util offers: C# types, public members and enum values; PowerShell functions."""
    names = set(TYPE_RE.findall(source)) | set(PUBLIC_RE.findall(source)) | set(FUNCTION_RE.findall(source))
    for body in ENUM_RE.findall(source):
        body = re.sub(r"//[^\n]*|/\*.*?\*/|\[[^\]]*\]", "", body, flags=re.DOTALL)
        names.update(m.group(1) for m in re.finditer(r"(\w+)\s*(?:=[^,]*)?(?:,|$)", body.strip()))
    return names


def _util_source(windows_root: str, name: str) -> str | None:
    folder = os.path.join(windows_root, WINDOWS_SUBDIR, "plugins", "module_utils")
    for ext in (".cs", ".psm1"):
        if os.path.exists(os.path.join(folder, name + ext)):
            with open(os.path.join(folder, name + ext), encoding="utf-8", errors="replace") as handle:
                return handle.read()
    return None


def util_problems(root: str, windows_root: str, windows_version: str | None, newest_root: str) -> list[str]:
    """The collection's own modules and module_utils that require an ansible.windows module_util (``#AnsibleRequires
    ... ansible_collections.ansible.windows.plugins.module_utils.X``): X must exist in the floor, and no name the
    source uses may be one that the newest X has and the floor's X lacks (a type, member or enum value added later).
    The lane's playbook runs prove that Ansible finds X in the floor; this proves the names, which the double cannot.
    """
    problems = []
    sources = sorted(glob.glob(os.path.join(root, "plugins", "modules", "*.ps1"))
                     + glob.glob(os.path.join(root, "plugins", "module_utils", "*.ps*1"))
                     + glob.glob(os.path.join(root, "plugins", "module_utils", "*.cs")))
    for path in sources:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        where = os.path.relpath(path, root)
        for util in sorted(set(UTIL_RE.findall(text))):
            if windows_version is None:
                problems.append(f"{where}: requires the ansible.windows module_util {util}, but galaxy.yml declares no "
                                "ansible.windows dependency")
                continue
            floor_source = _util_source(windows_root, util)
            if floor_source is None:
                problems.append(f"{where}: requires the ansible.windows module_util {util}, which ansible.windows "
                                f"{windows_version} does not have")
                continue
            newest_source = _util_source(newest_root, util) or ""
            later = _declared_names(newest_source) - _declared_names(floor_source)
            used = sorted(later & set(IDENT_RE.findall(text)))
            if used:
                problems.append(f"{where}: uses {', '.join(used)} of the ansible.windows module_util {util}, which "
                                f"ansible.windows {windows_version} does not have")
    return problems


# ------------------------------------------------------------------------------------------- module specs
def _pwsh_static():
    path = os.path.join(REPO, "tests", "unit", "powershell", "pwsh_static.py")
    spec = importlib.util.spec_from_file_location("lane_pwsh_static", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def module_specs(module_dirs: list[str]) -> dict[str, dict]:
    """{leaf name: {options: [...], required: [...]}} of every PowerShell module whose $spec is a literal.

    Modules on the legacy Parse-Args API (win_copy) have no $spec: Windows accepts any option there, and so does
    the lane's connection plugin. The static check covers their documented options.
    """
    pwsh_static = _pwsh_static()
    specs = {}
    for folder in module_dirs:
        for path in sorted(glob.glob(os.path.join(folder, "*.ps1"))):
            spec = pwsh_static.load_module(path).spec
            options = spec.get("options") if isinstance(spec, dict) else None
            if not isinstance(options, dict):
                continue
            names, required = set(), []
            for name, option in options.items():
                names.add(name)
                option = option if isinstance(option, dict) else {}
                aliases = option.get("aliases") or []
                names.update(aliases if isinstance(aliases, list) else [aliases])
                if option.get("required") is True:
                    required.append(name)
            specs[os.path.basename(path)[:-4]] = {"options": sorted(names), "required": sorted(required)}
    return specs


# ------------------------------------------------------------------------------------------------ scenario
PASSWORD = "Lane-Pfx-Secret-42"
HOSTS = {"apex01": "apex01.corp.example", "apex02": "apex02.corp.example"}
FAIL_AT = "win_cert_persistence"  # apex01 fails at KB step 7, after every other step: the role rolls everything back


@dataclass
class ScenarioResult:
    lane: Lane
    seconds: float
    problems: list[str]
    called: dict[str, list[str]]  # host -> modules called, in order
    output: str


def _host_setup(workdir: str, collections: str):
    # winsim may import the collection's controller code: take it from the installed copy under test.
    sys.path[:0] = [os.path.join(REPO, "tests", "lab"), os.path.join(REPO, "tests", "double"), collections]
    import pki
    import winsim

    lab = pki.LabPki()
    with open(os.path.join(workdir, "root.pem"), "w") as handle:
        handle.write(lab.root.pem)
    hosts, initial = {}, {}
    for index, (name, fqdn) in enumerate(HOSTS.items()):
        _key, old = pki.make_cert(fqdn, issuer=None, key=pki.rsa_key(2048, slot=700 + index))
        key, new = lab.server(fqdn, key=pki.rsa_key(2048, slot=710 + index))
        with open(os.path.join(workdir, f"{name}.pfx"), "wb") as handle:
            handle.write(pki.make_pfx(key, new, [lab.intermediate.cert], password=PASSWORD))
        state = winsim.new_state(old, hostname=fqdn)
        initial[name] = winsim.comparable(copy.deepcopy(state))
        if name == "apex01":
            state["fail"] = {FAIL_AT: {"message": "lane: simulated failure at step 7", "times": 1}}
        with open(os.path.join(workdir, f"{name}.json"), "w") as handle:
            json.dump(state, handle)
        # apexone_cert_trusted_connections: the role's transport guard knows winrm/psrp; the lane's double is local.
        hosts[name] = {"ansible_connection": "apexone_lane", "apexone_cert_trusted_connections": ["apexone_lane"],
                       "apexone_double_state_dir": workdir,
                       "apexone_cert_hostname": fqdn, "apexone_cert_pfx_path": os.path.join(workdir, f"{name}.pfx")}
    inventory = {"all": {"hosts": hosts, "vars": {
        "apexone_cert_pfx_password": PASSWORD, "apexone_cert_ca_bundle_path": os.path.join(workdir, "root.pem"),
        "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0, "apexone_cert_friendly_name": "Apex One web host 2026",
        "apexone_cert_run_record_dir": os.path.join(workdir, "runs"),
        "apexone_cert_summary_path": os.path.join(workdir, "preflight.json"),
        "apexone_cert_report_dir": os.path.join(workdir, "report"),
        "apexone_cert_audit_endpoints": ["127.0.0.1:9"], "apexone_cert_audit_timeout": 2}}}
    with open(os.path.join(workdir, "inventory.json"), "w") as handle:
        json.dump(inventory, handle)
    return winsim, initial


def run_scenario(lane: Lane, workdir: str, collections: str | None = None) -> ScenarioResult:
    """Two ansible-playbook runs with the lane's ansible-core and ansible.windows against the test double.

    1. preflight.yml + replace.yml on apex01 and apex02: apex01 fails at KB step 7 and the role rolls every step back
       (restore.yml); apex02 is replaced. Exit code 2, apex01 back to its start, apex02 on the new certificate.
    2. rollback.yml + audit.yml on apex02: back to its start, and the audit report written.
    Every ansible.windows module the roles/playbooks use must have been called (else the lane proves nothing).
    """
    started = time.monotonic()
    collections = collections or os.path.join(REPO, ".build", "collections")
    installed = os.path.join(collections, "ansible_collections", "apexone", "certificates")
    if not os.path.isdir(installed):
        raise LaneError(f"the collection is not installed in {collections}: run make install")
    winsim, initial = _host_setup(workdir, collections)
    specs_path = os.path.join(workdir, "module-specs.json")
    with open(specs_path, "w") as handle:
        json.dump(module_specs([os.path.join(lane.windows_path, WINDOWS_SUBDIR, "plugins", "modules"),
                                os.path.join(installed, "plugins", "modules")]), handle)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    env.update({
        "PATH": lane.bin + os.pathsep + env.get("PATH", ""), "HOME": workdir,
        "ANSIBLE_COLLECTIONS_PATH": collections + os.pathsep + lane.windows_path,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_CONNECTION_PLUGINS": LANE_PLUGINS,
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "tmp"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_PYTHON_INTERPRETER": os.path.join(lane.bin, "python"),
        "APEXONE_LANE_SPECS": specs_path,
    })
    playbook = os.path.join(lane.bin, "ansible-playbook")
    inventory = os.path.join(workdir, "inventory.json")

    def play(*args):
        books = [os.path.join(installed, "playbooks", a) if a.endswith(".yml") else a for a in args]
        return subprocess.run([playbook, "-i", inventory, *books], env=env, cwd=workdir, capture_output=True,
                              text=True, check=False, timeout=600)

    def state(host):
        with open(os.path.join(workdir, f"{host}.json")) as handle:
            return json.load(handle)

    def record(host):
        path = os.path.join(workdir, "runs", f"{host}.json")
        return json.load(open(path)) if os.path.exists(path) else {}

    problems = []
    first = play("preflight.yml", "replace.yml")
    output = first.stdout + first.stderr
    if first.returncode != 2:
        problems.append(f"run 1 (preflight + replace): exit code {first.returncode}, expected 2 (apex01 fails at "
                        f"step 7 and is rolled back, apex02 is replaced)")
    if winsim.comparable(state("apex01")) != initial["apex01"]:
        problems.append("run 1: apex01 is not back where it started after the failure at step 7")
    if record("apex01").get("status") != "rolled_back":
        problems.append(f"run 1: apex01 run record status {record('apex01').get('status')!r}, expected 'rolled_back'")
    if record("apex02").get("status") != "applied":
        problems.append(f"run 1: apex02 run record status {record('apex02').get('status')!r}, expected 'applied'")
    if not problems:
        second = play("rollback.yml", "audit.yml", "-e", "apexone_cert_target_hosts=apex02")
        output += second.stdout + second.stderr
        if second.returncode != 0:
            problems.append(f"run 2 (rollback + audit on apex02): exit code {second.returncode}, expected 0")
        if winsim.comparable(state("apex02")) != initial["apex02"]:
            problems.append("run 2: rollback.yml did not put apex02 back where it started")
        if not os.path.exists(os.path.join(workdir, "report", "report.json")):
            problems.append("run 2: audit.yml wrote no report.json")
    called = {}
    for host in HOSTS:
        path = os.path.join(workdir, f"{host}.calls.jsonl")
        lines = open(path).read().splitlines() if os.path.exists(path) else []
        called[host] = [json.loads(line)["module"].rsplit(".", 1)[-1] for line in lines]
    used = {u.module for u in windows_uses(installed)}
    exercised = {m for modules in called.values() for m in modules}
    if not problems and used - exercised:
        problems.append(f"the scenario never called {', '.join(sorted(used - exercised))}, which the roles/playbooks "
                        "use: extend run_scenario so that the lane exercises every ansible.windows module")
    return ScenarioResult(lane, time.monotonic() - started, problems, called, output)


def lowest_windows(decl: Declared, run: bool = False, log=print) -> str | None:
    """The oldest ansible.windows (of those a PyPI ansible wheel carries) that the roles/playbooks can use with the
    declared ansible-core floor: it admits that ansible-core (its requires_ansible), passes the static check and, with
    ``run``, the lane's scenario. What to declare in galaxy.yml when the tasks change (downloads each candidate once).
    """
    data = lane_data()
    floor_lane = None
    for version in sorted(data["ansible_windows_in_ansible"], key=Version):
        tree = windows_tree(version, data)
        needs = read_yaml(os.path.join(tree, WINDOWS_SUBDIR, "meta", "runtime.yml")).get("requires_ansible", "")
        if needs and Version(decl.ansible_core) not in SpecifierSet(needs):
            log(f"ansible.windows {version}: requires ansible-core '{needs}', not {decl.ansible_core}")
            continue
        problems = check(REPO, tree, version, decl.ansible_core, data)
        problems += util_problems(REPO, tree, version, windows_tree(max(data["ansible_windows_in_ansible"], key=Version),
                                                                    data))
        if problems:
            log(f"ansible.windows {version}: {len(problems)} problem(s), first: {problems[0]}")
            continue
        if run:
            floor_lane = floor_lane or prepare("floor", decl)[0]
            candidate = Lane("candidate", floor_lane.bin, decl.ansible_core, version, tree)
            with tempfile.TemporaryDirectory(prefix="lane-lowest-") as workdir:
                result = run_scenario(candidate, workdir)
            if result.problems:
                log(f"ansible.windows {version}: the scenario fails: {result.problems[0]}")
                continue
        log(f"ansible.windows {version}: usable with ansible-core {decl.ansible_core}")
        return version
    return None


# ---------------------------------------------------------------------------------------------------- CLI
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("floors")
    prep = sub.add_parser("prepare")
    prep.add_argument("which", nargs="?", default="all", choices=["floor", "newest", "all"])
    chk = sub.add_parser("check")
    chk.add_argument("--root", default=REPO)
    run = sub.add_parser("run")
    run.add_argument("which", nargs="?", default="all", choices=["floor", "newest", "all"])
    low = sub.add_parser("lowest", help="the oldest ansible.windows the roles/playbooks can declare")
    low.add_argument("--run", action="store_true", help="also run the scenario with each candidate")
    args = parser.parse_args(argv)
    try:
        decl = declared()
        if args.command == "floors":
            print(json.dumps(decl.__dict__, indent=2))
            return 0
        if args.command == "prepare":
            for lane in prepare(args.which, decl):
                print(f"lane {lane.name}: ansible-core {lane.ansible_core}, ansible.windows {lane.ansible_windows}")
            return 0
        if args.command == "lowest":
            found = lowest_windows(decl, run=args.run)
            print(f"lowest usable ansible.windows: {found} (galaxy.yml declares {decl.ansible_windows})")
            return 0 if found else 1
        if args.command == "check":
            floor, newest = prepare("all", decl)
            problems = check(args.root, floor.windows_path, floor.ansible_windows, floor.ansible_core)
            problems += util_problems(args.root, floor.windows_path, floor.ansible_windows, newest.windows_path)
            print("\n".join(problems) or f"every ansible.windows option and module_util used exists in "
                                          f"{floor.ansible_windows}")
            return 1 if problems else 0
        failed = False
        for lane in prepare(args.which, decl):
            with tempfile.TemporaryDirectory(prefix=f"lane-{lane.name}-") as workdir:
                result = run_scenario(lane, workdir)
            label = f"lane {lane.name} (ansible-core {lane.ansible_core}, ansible.windows {lane.ansible_windows})"
            print(f"{label}: {'FAILED' if result.problems else 'passed'} in {result.seconds:.1f}s")
            for problem in result.problems:
                print("  " + problem)
            if result.problems:
                print(result.output[-4000:])
                failed = True
        return 1 if failed else 0
    except LaneError as exc:
        print(f"lane: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

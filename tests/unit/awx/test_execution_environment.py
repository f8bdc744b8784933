"""execution-environment.yml: ``ansible-builder create`` makes a complete build context, and the collection
source it copies into the context installs as the same collection ``ansible-galaxy collection build`` makes.

The image build itself needs podman or docker (docs/awx.md); everything before it is checked here.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml
from packaging.requirements import Requirement

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
EE_FILE = os.path.join(REPO, "execution-environment.yml")
# Top-level entries of the collection tarball that the execution environment does not need at run time.
NOT_IN_EE = {
    "tests", "docs", "awx", "changelogs", "execution-environment.yml", "requirements-dev.txt", "Makefile",
    "pytest.ini", "ruff.toml", ".ansible-lint", "CHANGELOG.md", "CHANGELOG.rst", "MANIFEST.json", "FILES.json",
}


def tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else shutil.which(name)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    if not tool("ansible-builder"):
        pytest.fail("ansible-builder is not installed: it is in requirements-dev.txt (make venv)")
    ctx = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run(
        [tool("ansible-builder"), "create", "-f", EE_FILE, "--context", str(ctx), "--output-filename", "Containerfile"],
        capture_output=True, text=True, check=False, timeout=120, cwd=str(ctx.parent),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No matches" not in proc.stdout + proc.stderr, "an additional_build_files source is missing"
    return ctx


def requirements(path):
    lines = [x.split("#", 1)[0].strip() for x in open(path).read().splitlines()]
    return {r.name.lower(): r for r in (Requirement(x) for x in lines if x and not x.startswith("-"))}


def test_definition_uses_schema_version_3():
    with open(EE_FILE) as handle:
        definition = yaml.safe_load(handle)
    assert definition["version"] == 3
    assert definition["images"]["base_image"]["name"]
    # No registry host in the committed file: the base image is a short name, overridable at build time.
    assert "." not in definition["images"]["base_image"]["name"].split("/")[0]


def test_containerfile_stages(context):
    text = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="' in text  # --build-arg EE_BASE_IMAGE=... picks another base image
    for stage in ("AS base", "AS galaxy", "AS builder", "AS final"):
        assert f"FROM base {stage}" in text or f"FROM $EE_BASE_IMAGE {stage}" in text, stage
    assert "ansible-galaxy collection install" in text
    assert "ansible-core>=2.16,<2.20" in text and "ansible-runner>=2.4,<3" in text
    # The image refuses to build without the collection or without an auth mechanism of pywinrm.
    assert "RUN ansible-galaxy collection list apexone.certificates" in text
    assert "HAVE_KERBEROS and t.HAVE_NTLM and t.HAVE_CREDSSP" in text


def test_python_requirements(context):
    ee = requirements(context / "_build" / "requirements.txt")
    assert {"kerberos", "credssp"} <= ee["pywinrm"].extras
    runtime = requirements(os.path.join(REPO, "requirements.txt"))
    for name, req in runtime.items():
        if name == "ansible-core":
            continue  # installed by the ansible_core section, checked in the Containerfile
        assert name in ee, f"{name} from requirements.txt is missing in the execution environment"
        assert ee[name].specifier == req.specifier, f"{name}: {ee[name].specifier} != {req.specifier}"


def test_kerberos_system_packages(context):
    from bindep.depends import Depends

    text = (context / "_build" / "bindep.txt").read_text()
    depends = Depends(text)  # raises on a syntax error
    # What ansible-builder installs in the final image (default profile) and in the builder stage (compile).
    runtime = {rule[0] for rule in depends.active_rules(["platform:rpm", "default"])}
    builder = {rule[0] for rule in depends.active_rules(["platform:rpm", "compile"])}
    assert runtime == {"krb5-libs", "krb5-workstation"}
    assert {"krb5-devel", "gcc", "python3-devel"} <= builder


def test_galaxy_requirements(context):
    with open(context / "_build" / "requirements.yml") as handle:
        collections = {c["name"]: c for c in yaml.safe_load(handle)["collections"]}
    assert collections["collections/apexone.certificates"]["type"] == "dir"
    assert "ansible.windows" in collections
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    for dep in galaxy.get("dependencies", {}):
        assert dep in collections, f"galaxy.yml dependency {dep} is not in the execution environment"


def test_collection_in_the_context_installs_like_the_release_tarball(context, tmp_path):
    """What the galaxy stage does with the copied source, offline; compared with `ansible-galaxy collection build`."""
    build = os.path.join(context, "_build")
    local = [c for c in yaml.safe_load(open(os.path.join(build, "requirements.yml")))["collections"] if c.get("type") == "dir"]
    req = tmp_path / "local-requirements.yml"
    req.write_text(yaml.safe_dump({"collections": local}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"HOME": str(tmp_path), "ANSIBLE_NOCOLOR": "1"})
    out = tmp_path / "installed"
    proc = subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--no-deps", "--offline", "-r", str(req), "-p", str(out)],
        capture_output=True, text=True, check=False, timeout=120, cwd=build, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = out / "ansible_collections" / "apexone" / "certificates"
    manifest = json.loads((installed / "MANIFEST.json").read_text())["collection_info"]
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("apexone", "certificates", galaxy["version"])

    dist = tmp_path / "dist"
    proc = subprocess.run(
        [tool("ansible-galaxy"), "collection", "build", "--output-path", str(dist), REPO],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = dist.glob("*.tar.gz")
    with tarfile.open(tarball) as tar:
        released = {m.name for m in tar.getmembers() if m.isfile()}
    needed = {name for name in released if name.split("/", 1)[0] not in NOT_IN_EE}
    in_ee = {str(p.relative_to(installed)) for p in installed.rglob("*") if p.is_file()}
    missing = sorted(needed - in_ee)
    assert not missing, f"add these to additional_build_files in execution-environment.yml (or to NOT_IN_EE): {missing}"
    assert "playbooks/preflight.yml" in in_ee and "plugins/lookup/pfx_info.py" in in_ee

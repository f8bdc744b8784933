"""Supply chain of the execution environment (issue #14, low items), checked on what ``ansible-builder create`` writes:

- the base image is pinned by digest through the EE_BASE_IMAGE build argument: the first step of the build refuses
  a name without ``@sha256:<64 hex>``;
- collection signatures: ``--galaxy-keyring`` (docs/awx.md) reaches ``ansible-galaxy collection install``; Galaxy is
  not reachable here, so the signatures themselves cannot be verified in CI;
- Python packages: every pip install of the base and builder stages runs against ee-constraints.txt, a pip-compile
  lock in which every package is pinned with its hashes, and which covers everything the image installs.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from lane_helpers import REPO, lane
from packaging.requirements import Requirement
from packaging.version import Version

BIN = os.path.dirname(sys.executable)
EE_FILE = os.path.join(REPO, "execution-environment.yml")
LOCK = os.path.join(REPO, "ee-constraints.txt")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def create(tmp_path, *extra):
    builder = os.path.join(BIN, "ansible-builder")
    if not os.path.exists(builder):
        pytest.fail("ansible-builder is not installed: it is in requirements-dev.txt (make venv)")
    context = tmp_path / "context"
    proc = subprocess.run([builder, "create", "-f", EE_FILE, "--context", str(context), "--output-filename",
                           "Containerfile", *extra], capture_output=True, text=True, check=False, timeout=120,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return context, (context / "Containerfile").read_text()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return create(tmp_path_factory.mktemp("ee"))


def stage(text, name):
    """The lines of one build stage of the Containerfile."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("FROM ") and line.endswith(f" AS {name}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), len(lines))
    return lines[start:end]


def digest_check(text):
    (line,) = [line for line in stage(text, "base") if "@sha256:" in line and line.startswith("RUN ")]
    return line[len("RUN "):]


@pytest.mark.parametrize("image, pinned", [
    ("centos:stream10", False),
    ("registry.example/centos/centos:stream10", False),
    ("centos@sha256:0123", False),
    (f"centos:stream10@{DIGEST}x", False),
    (f"centos@{DIGEST}", True),
    (f"registry.example:5000/centos/centos:stream10@{DIGEST}", True),
])
def test_the_build_refuses_a_base_image_without_digest(built, image, pinned):
    _context, text = built
    check = digest_check(text)
    proc = subprocess.run(["sh", "-c", check], env={"PATH": os.environ["PATH"], "EE_BASE_IMAGE": image},
                          capture_output=True, text=True, check=False)
    assert (proc.returncode == 0) is pinned, proc.stdout + proc.stderr
    if not pinned:
        assert "--build-arg EE_BASE_IMAGE=<registry>/<image>@sha256:<digest>" in proc.stdout


def test_the_digest_check_is_the_first_step_of_the_base_stage(built):
    _context, text = built
    base = stage(text, "base")
    assert base[0] == "FROM $EE_BASE_IMAGE AS base" and "ARG EE_BASE_IMAGE" in base
    runs = [line for line in base if line.startswith("RUN ")]
    assert runs[0] == "RUN " + digest_check(text)
    # The documented default stays a short name without a registry host; the pin is the build argument.
    definition = yaml.safe_load(open(EE_FILE))
    assert "@" not in definition["images"]["base_image"]["name"]
    assert "Pinning the base image" in open(os.path.join(REPO, "docs", "awx.md")).read()


def test_a_keyring_turns_signature_verification_on(tmp_path):
    keyring = tmp_path / "galaxy-keyring.gpg"
    keyring.write_bytes(b"not read by ansible-builder create")
    context, text = create(tmp_path, "--galaxy-keyring", str(keyring), "--galaxy-required-valid-signature-count", "2")
    (install,) = [line for line in stage(text, "galaxy") if "ansible-galaxy collection install" in line]
    assert '--keyring "keyring.gpg"' in install and "--required-valid-signature-count 2" in install
    assert "ANSIBLE_GALAXY_DISABLE_GPG_VERIFY" not in install
    # ansible-builder reads that count as an integer, so "+1" (refuse unsigned collections) goes through the build
    # argument ANSIBLE_GALAXY_CLI_COLLECTION_OPTS, which lands in the same command (docs/awx.md).
    assert install.startswith("RUN ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS ")
    assert any(p.name.endswith(".gpg") for p in (context / "_build").iterdir())


def test_without_keyring_the_build_says_it_does_not_verify(built):
    _context, text = built
    (install,) = [line for line in stage(text, "galaxy") if "ansible-galaxy collection install" in line]
    assert install.startswith("RUN ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ")  # documented in docs/awx.md
    assert "--galaxy-keyring" in open(os.path.join(REPO, "docs", "awx.md")).read()


def test_the_ee_installs_python_packages_under_the_lock(built):
    context, text = built
    definition = yaml.safe_load(open(EE_FILE))
    assert {"src": "ee-constraints.txt", "dest": "constraints"} in definition["additional_build_files"]
    with open(LOCK) as source:
        assert (context / "_build" / "constraints" / "ee-constraints.txt").read_text() == source.read()
    base = stage(text, "base")
    env = base.index("ENV PIP_CONSTRAINT=/usr/share/apexone-ee/ee-constraints.txt")
    assert base[env - 1] == "COPY _build/constraints/ee-constraints.txt /usr/share/apexone-ee/ee-constraints.txt"
    # Before the first pip install of the image (ansible-core, ansible-runner); the builder stage inherits it.
    first_pip = next(i for i, line in enumerate(base) if "-m pip install" in line)
    assert env < first_pip
    assert stage(text, "builder")[0] == "FROM base AS builder"
    assert not any("PIP_CONSTRAINT" in line for line in stage(text, "builder"))


def test_the_final_stage_pins_the_same_versions(built, tmp_path):
    _context, text = built
    final = stage(text, "final")
    (sed,) = [line for line in final if line.startswith("RUN sed ")]
    env = final.index("ENV PIP_CONSTRAINT=/usr/share/apexone-ee/ee-pins.txt")
    assert final.index(sed) < env < next(i for i, line in enumerate(final) if "install-from-bindep" in line)
    command = sed[len("RUN "):].replace("/usr/share/apexone-ee/", str(tmp_path) + "/")
    shutil.copy(LOCK, tmp_path / "ee-constraints.txt")
    subprocess.run(["sh", "-c", command], check=True)
    lines = [line for line in (tmp_path / "ee-pins.txt").read_text().splitlines() if line and not line.lstrip().startswith("#")]
    pins = {}
    for line in lines:
        requirement = Requirement(line)  # every line is a valid pip requirement
        pins[requirement.name.lower()] = str(requirement.specifier)
    assert pins == {name: f"=={version}" for name, version in lane.locked_pins(LOCK).items()}
    # After the last pip install of the build, the image no longer binds pip to the lock (an empty value is no file).
    assert final.index("ENV PIP_CONSTRAINT=") > max(i for i, line in enumerate(final) if "pip install" in line)


def test_every_line_of_the_lock_has_a_hash():
    assert lane.lock_problems(LOCK) == []
    assert len(lane.locked_pins(LOCK)) >= 20


@pytest.mark.parametrize("mutation, expected", [
    (lambda t: re.sub(r"(asn1crypto==1\.5\.1 \\\n)(    --hash=\S+ \\\n)*    --hash=\S+\n", r"asn1crypto==1.5.1\n", t),
     "asn1crypto==1.5.1 has no --hash"),
    (lambda t: t.replace("pywinrm==", "pywinrm>=", 1), "is not pinned with =="),
    (lambda t: t.replace("--hash=sha256:", "--hash=md5:", 1), "is not a --hash=sha256"),
    (lambda t: t + "--index-url https://mirror.invalid/simple\n", "unexpected option line"),
])
def test_a_broken_lock_is_reported(tmp_path, mutation, expected):
    broken = tmp_path / "ee-constraints.txt"
    with open(LOCK) as source:
        text = source.read()
    changed = mutation(text)
    assert changed != text
    broken.write_text(changed)
    problems = lane.lock_problems(str(broken))
    assert any(expected in p for p in problems), problems


def lock_gaps(lock_path, context, text):
    """What the image installs with pip that the lock does not pin (or pins outside the asked range)."""
    pins = lane.locked_pins(lock_path)
    wanted = [Requirement(line) for line in (context / "_build" / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]+)"', text).group(1)
    wanted += [Requirement(r) for r in re.findall(r"\S+[<>=~!]+[^\s]+|\S+", refs)]
    builder_tools = re.search(r"-m pip install --no-cache-dir (.+)$", "\n".join(stage(text, "builder")), re.M).group(1)
    wanted += [Requirement(r) for r in builder_tools.split()]
    wanted += [Requirement(r.strip("'")) for r in re.findall(r"'(dumb-init==[^']+)'", text)]
    # The extras the EE asks for, and pykerberos' build requirements.
    wanted += [Requirement(r) for r in ("pykerberos", "requests-credssp", "requests-ntlm", "setuptools", "wheel")]
    gaps = []
    for req in wanted:
        name = req.name.lower().replace("_", "-")
        if name not in pins:
            gaps.append(f"{name} is not in the lock")
        elif Version(pins[name]) not in req.specifier:
            gaps.append(f"{name}=={pins[name]} is outside '{req.specifier}'")
    return gaps


def test_the_lock_covers_what_the_image_installs(built):
    context, text = built
    assert lock_gaps(LOCK, context, text) == []


def test_a_lock_missing_a_package_is_reported(built, tmp_path):
    context, text = built
    with open(LOCK) as source:
        lines = source.read().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("pykerberos=="))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace())
    broken = tmp_path / "ee-constraints.txt"
    broken.write_text("\n".join(lines[:start] + lines[end:]))
    assert lock_gaps(str(broken), context, text) == ["pykerberos is not in the lock"]

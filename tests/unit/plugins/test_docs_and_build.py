"""The documentation renders with ansible-doc, and the collection builds and installs the way users install it."""

import glob
import os
import subprocess
import tarfile

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def plugins_of(kind):
    names = sorted(
        os.path.splitext(os.path.basename(p))[0]
        for p in glob.glob(os.path.join(REPO, "plugins", kind, "*.py"))
        if not os.path.basename(p).startswith("_")
    )
    return names


def ansible_doc(env, *args):
    proc = subprocess.run(["ansible-doc", *args], env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "[WARNING]" not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("kind", "name"),
    [("lookup", n) for n in plugins_of("lookup")]
    + [("filter", n) for n in plugins_of("filter")]
    + [("module", n) for n in plugins_of("modules")],
)
def test_every_plugin_renders_with_examples(ansible_env, kind, name):
    text = ansible_doc(ansible_env, "-t", kind, f"apexone.certificates.{name}")
    assert f"apexone.certificates.{name}" in text
    assert "EXAMPLES:" in text
    assert "RETURN VALUES:" in text or "RETURN" in text


def test_listing_shows_the_public_interfaces(ansible_env):
    lookups = ansible_doc(ansible_env, "-t", "lookup", "-l", "apexone.certificates")
    filters = ansible_doc(ansible_env, "-t", "filter", "-l", "apexone.certificates")
    assert "apexone.certificates.pfx_info" in lookups
    assert "apexone.certificates.x509_info" in filters
    assert "apexone.certificates.webhost_cert_check" in filters


def test_every_problem_code_is_documented(ansible_env):
    from ansible_collections.apexone.certificates.plugins.module_utils._x509 import PROBLEM_CODES

    text = ansible_doc(ansible_env, "-t", "filter", "apexone.certificates.webhost_cert_check")
    flat = " ".join(text.split())
    for code in PROBLEM_CODES:
        assert code in flat, code


def test_collection_builds_and_installs(ansible_env, tmp_path):
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["namespace"] == "apexone" and galaxy["name"] == "certificates"
    assert "ansible.windows" in galaxy["dependencies"]
    assert "Not affiliated" in galaxy["description"] or "not affiliated" in galaxy["description"]
    subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), REPO],
        env=ansible_env, check=True, capture_output=True, timeout=120,
    )
    (tarball,) = glob.glob(str(tmp_path / "apexone-certificates-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/module_utils/_x509.py" in names
    assert not any(n.startswith((".venv", ".build", "lab/", ".git/")) for n in names), [
        n for n in names if n.startswith((".venv", ".build", "lab/", ".git/"))
    ][:5]
    dest = tmp_path / "installed"
    subprocess.run(
        ["ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", str(dest), tarball],
        env=ansible_env, check=True, capture_output=True, timeout=120,
    )
    assert (dest / "ansible_collections" / "apexone" / "certificates" / "MANIFEST.json").exists()

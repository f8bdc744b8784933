"""Fixtures shared by the unit tests: a real PKI built with cryptography (nothing binary is checked in)."""

import os
import sys

import pytest

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
if LAB_DIR not in sys.path:
    sys.path.insert(0, LAB_DIR)

import pki  # noqa: E402

try:
    from hypothesis import settings

    settings.register_profile("ci", max_examples=60, deadline=None)
    settings.register_profile("fuzz", max_examples=5000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is a dev requirement; tests that need it import it themselves
    pass


@pytest.fixture(scope="session")
def lab_pki():
    return pki.LabPki()


@pytest.fixture(scope="session")
def server(lab_pki):
    """A good server certificate for apex01.corp.example, issued by the lab intermediate: (key, cert)."""
    return lab_pki.server("apex01.corp.example", key=pki.rsa_key(2048, slot=500))


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="session")
def ansible_env(tmp_path_factory):
    """Environment for ansible-playbook / ansible-doc subprocesses: the installed collection, no user config."""
    installed = os.path.join(REPO, ".build", "collections")
    if not os.path.isdir(os.path.join(installed, "ansible_collections", "apexone", "certificates")):
        pytest.fail("the collection is not installed: run 'make install' (make test does it)")
    home = tmp_path_factory.mktemp("ansible-home")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANSIBLE_") and key not in ("PYTHONPATH",)
    }
    env.update(
        {
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
            "HOME": str(home),
            "ANSIBLE_COLLECTIONS_PATH": installed + os.pathsep + os.path.join(REPO, ".build", "deps"),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            # The transport guard (#14) does not know the test double's connection plugin: it is vouched for here.
            "APEXONE_CERT_TRUSTED_CONNECTIONS": "apexone_double",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        }
    )
    return env


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A generated lab fleet (CA, PFX files, inventory) in a temporary folder."""
    import make_lab

    out = tmp_path_factory.mktemp("lab")
    expected = make_lab.build(str(out))
    return {"dir": out, "inventory": str(out / "inventory.yml"), "expected": expected, "password": make_lab.PFX_PASSWORD}


DOUBLE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "double")
if DOUBLE_DIR not in sys.path:
    sys.path.insert(0, DOUBLE_DIR)

"""Helpers shared by the reliability tests: certificate material with one defect each, and a fleet of simulated
Apex One servers (tests/double) that the real playbooks run against.

Not a test module (pytest does not collect it); the tests of this folder import it by name.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pki
import winsim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
HOST = "apex01.corp.example"
PASSWORD = "Rel-Pfx-Secret-7319"  # a test value that must never appear in any output
FRIENDLY = "Apex One web host 2026"
CHANGE_MODULES = (
    "win_webhost_cert", "win_agent_cert", "win_iis_https_binding", "win_cert_persistence", "win_schannel_trust",
    "win_root_store_hygiene", "win_powershell", "win_copy", "win_service", "win_apexone_services",
)


class Material:
    """A lab PKI and the certificates of the bad-input matrix (built once per test module)."""

    def __init__(self):
        self.lab = pki.LabPki()
        self.key = pki.rsa_key(2048, slot=900)
        self.other_key = pki.rsa_key(2048, slot=901)
        _k, self.old = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=902))
        _k, self.good = self.lab.server(HOST, key=self.key)

    def server(self, cn: str | None = HOST, *, key=None, **kwargs):
        """A certificate issued by the lab intermediate (with this key, default self.key)."""
        return self.lab.server(cn, key=key or self.key, **kwargs)[1]

    def pfx(self, cert=None, *, key="default", chain=None, password: str | None = PASSWORD,
            extra=None, encryption: str = "legacy", friendly_name: str | None = "Apex One web host") -> bytes:
        """A PFX of ``cert`` (default the good one) with its key and the lab intermediate as chain."""
        cert = self.good if cert is None else cert
        key = self.key if key == "default" else key
        chain = [self.lab.intermediate.cert] if chain is None else list(chain)
        if key is not None and not _same_key(cert, key):
            # cryptography will not pair a certificate with a foreign key: the certificate goes in its own bag.
            return pkcs12.serialize_key_and_certificates(
                friendly_name.encode() if friendly_name else None, key, None, [cert, *chain, *(extra or [])],
                pki.pfx_encryption(password, encryption),
            )
        return pkcs12.serialize_key_and_certificates(
            friendly_name.encode() if friendly_name else None, key, cert, [*chain, *(extra or [])] or None,
            pki.pfx_encryption(password, encryption),
        )

    def pfx_thumbprint(self) -> str:
        """Thumbprint of the good certificate (the one every default PFX holds)."""
        return _x509.thumbprint(self.good)

    def ec_server(self, curve):
        key = ec.generate_private_key(curve)
        return key, self.server(key=key)

    def sha_server(self, name: str):
        return self.server(hash_algorithm={"sha1": hashes.SHA1(), "md5": hashes.MD5()}[name])


def _same_key(cert, key) -> bool:
    return _x509._same_public_key(cert, key)


def damaged_mac(data: bytes) -> bytes:
    """The PFX with one byte of its integrity MAC flipped (the structure still parses)."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    digest = asn1_pkcs12.Pfx.load(data)["mac_data"]["mac"]["digest"].native
    where = data.rindex(digest)
    damaged = bytearray(data)
    damaged[where] ^= 0xFF
    return bytes(damaged)


# ---------------------------------------------------------------------------------------------------------
# A fleet of simulated Apex One servers


class Fleet:
    """State files, PFX files and an inventory of simulated servers in ``folder``; runs playbooks against them."""

    def __init__(self, folder, material: Material, common_vars: dict | None = None):
        self.dir = folder
        self.material = material
        self.hosts: dict[str, dict] = {}
        self.initial: dict[str, dict] = {}
        self.common = {
            "apexone_cert_pfx_password": PASSWORD,
            "apexone_cert_ca_bundle_path": str(folder / "root.pem"),
            "apexone_cert_verify_tls": False,
            "apexone_cert_verify_settle": 0,
            "apexone_cert_friendly_name": FRIENDLY,
            "apexone_cert_run_record_dir": str(folder / "runs"),
            **(common_vars or {}),
        }
        (folder / "root.pem").write_text(material.lab.root.pem)

    def add(self, name: str, *, pfx: bytes | None = None, state: dict | None = None, **host_vars) -> dict:
        """A host: its server state (default a fresh install with the self-signed certificate), its PFX, its vars."""
        state = state if state is not None else winsim.new_state(self.material.old, hostname=HOST)
        pfx_path = self.dir / f"{name}.pfx"
        pfx_path.write_bytes(pfx if pfx is not None else self.material.pfx())
        self.write_state(name, state)
        self.initial[name] = winsim.comparable(state)
        self.hosts[name] = {
            "ansible_connection": "apexone_double",
            "apexone_cert_trusted_connections": ["apexone_double"],
            "apexone_double_state_dir": str(self.dir),
            "apexone_cert_hostname": HOST,
            "apexone_cert_pfx_path": str(pfx_path),
            **host_vars,
        }
        return state

    def write_inventory(self) -> str:
        path = self.dir / "inventory.json"
        path.write_text(json.dumps({"all": {"hosts": self.hosts, "vars": self.common}}))
        return str(path)

    def run(self, ansible_env, playbook: str, *extra: str, env: dict | None = None, timeout: int = 300):
        inventory = self.write_inventory()
        full_env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS, **(env or {}))
        cmd = ["ansible-playbook", "-i", inventory, os.path.join(REPO, "playbooks", playbook), *extra]
        return subprocess.run(cmd, env=full_env, capture_output=True, text=True, check=False, timeout=timeout,
                              cwd=str(self.dir))

    def state(self, name: str) -> dict:
        return json.loads((self.dir / f"{name}.json").read_text())

    def write_state(self, name: str, state: dict) -> None:
        (self.dir / f"{name}.json").write_text(json.dumps(state))

    def calls(self, name: str, keep: bool = False) -> list[dict]:
        """The remote calls recorded for ``name`` since the last time they were taken."""
        path = self.dir / f"{name}.calls.jsonl"
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text().splitlines()]
        if not keep:
            path.unlink()
        return entries


def names(entries: list[dict]) -> list[str]:
    return [e["module"].rsplit(".", 1)[-1] for e in entries]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")

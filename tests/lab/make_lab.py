"""Generate the demo/test lab: a CA hierarchy and certificates for a sample fleet of Apex One servers.

Each server gets a certificate with one kind of defect (or none), so the preflight shows what it catches.
Writes (into --out, git-ignored):
  ca/root.pem                 the lab root CA (the trusted bundle)
  ca/intermediate.pem         the issuing CA
  certs/<host>.pfx            PFX with key and chain (password in the inventory: it is a lab)
  certs/<host>.crt.pem/.key.pem  PEM cert (with chain) and key, used by the TLS servers of the audit demo
  inventory.yml               the fleet, with the apexone_cert_* variables the playbooks read
  expected.json               what the preflight must say about each host
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives import hashes  # noqa: E402

import pki  # noqa: E402

DOMAIN = "lab.example"
PFX_PASSWORD = "lab-only-Pfx-Passw0rd"  # noqa: S105 - a generated lab, never a real secret

# host prefix, description, expected verdict (ok, problem codes), how to build it
FLEET = [
    ("apex-good01", "good certificate, chain in the PFX", True, []),
    ("apex-good02", "good certificate in an AES-256 PFX (OpenSSL 3 default)", True, ["modern_pfx_encryption"]),
    ("apex-expired", "expired last month", False, ["expired"]),
    ("apex-wrongcn", "subject CN is another server", False, ["cn_mismatch"]),
    ("apex-nosan", "host name missing from the SAN", False, ["hostname_not_in_san"]),
    ("apex-weakkey", "RSA 1024 key", False, ["weak_key"]),
    ("apex-sha1", "SHA-1 signature", False, ["weak_signature", "chain_untrusted"]),
    ("apex-nointermediate", "PFX without the issuing CA", False, ["chain_incomplete"]),
    ("apex-untrusted", "issued by a CA nobody trusts", False, ["chain_untrusted"]),
    ("apex-keymismatch", "PEM certificate with the key of another server", False, ["key_mismatch"]),
]


def build(out: str) -> dict:
    lab = pki.LabPki()
    os.makedirs(os.path.join(out, "ca"), exist_ok=True)
    os.makedirs(os.path.join(out, "certs"), exist_ok=True)
    write(out, "ca/root.pem", lab.root.pem)
    write(out, "ca/intermediate.pem", lab.intermediate.pem)
    hosts = {}
    expected = {}
    now = pki.NOW
    for index, (prefix, description, ok, codes) in enumerate(FLEET):
        fqdn = f"{prefix}.{DOMAIN}"
        key = pki.rsa_key(2048, slot=10 + index)
        issuer = lab.intermediate
        chain = lab.chain
        kwargs = {}
        encryption = "legacy"
        if prefix == "apex-good02":
            encryption = "aes"
        elif prefix == "apex-expired":
            kwargs = {"not_before": now - datetime.timedelta(days=400), "not_after": now - datetime.timedelta(days=30)}
        elif prefix == "apex-wrongcn":
            kwargs = {"sans": [fqdn]}
        elif prefix == "apex-nosan":
            kwargs = {"sans": [f"apex-other.{DOMAIN}"]}
        elif prefix == "apex-weakkey":
            key = pki.rsa_key(1024, slot=10 + index)
        elif prefix == "apex-sha1":
            kwargs = {"hash_algorithm": hashes.SHA1()}  # noqa: S303 - the defect under test
        elif prefix == "apex-nointermediate":
            chain = []
        elif prefix == "apex-untrusted":
            issuer = lab.rogue_root
            chain = [lab.rogue_root.cert]
        cn = f"apex-other.{DOMAIN}" if prefix == "apex-wrongcn" else fqdn
        key, cert = pki.make_cert(cn, issuer=issuer, key=key, **kwargs)
        host = {"apexone_cert_hostname": fqdn, "lab_description": description}
        chain_pem = "".join(pki.pem(c) for c in chain)
        write(out, f"certs/{prefix}.crt.pem", pki.pem(cert) + chain_pem)
        write(out, f"certs/{prefix}.key.pem", pki.key_pem(key))
        if prefix == "apex-keymismatch":
            other = pki.rsa_key(2048, slot=99)
            write(out, f"certs/{prefix}.wrong-key.pem", pki.key_pem(other))
            host["apexone_cert_cert_path"] = f"{out}/certs/{prefix}.crt.pem"
            host["apexone_cert_key_path"] = f"{out}/certs/{prefix}.wrong-key.pem"
        else:
            pfx = pki.make_pfx(key, cert, chain, password=PFX_PASSWORD, encryption=encryption)
            write(out, f"certs/{prefix}.pfx", pfx)
            host["apexone_cert_pfx_path"] = f"{out}/certs/{prefix}.pfx"
        hosts[prefix] = host
        expected[prefix] = {"ok": ok, "codes": codes, "description": description}
    inventory = {
        "all": {
            "children": {
                "apexone_servers": {
                    "hosts": hosts,
                    "vars": {
                        "apexone_cert_pfx_password": PFX_PASSWORD,
                        "apexone_cert_ca_bundle_path": f"{out}/ca/root.pem",
                        "apexone_cert_min_days": 30,
                        # The lab has no Windows hosts: nothing in the preflight connects to them.
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                }
            }
        }
    }
    write(out, "inventory.yml", json.dumps(inventory, indent=2) + "\n")
    write(out, "expected.json", json.dumps(expected, indent=2) + "\n")
    return expected


def write(out: str, rel: str, content) -> None:
    path = os.path.join(out, rel)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as handle:
        handle.write(content)
    if rel.endswith((".pfx", ".key.pem")):
        os.chmod(path, 0o600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write the lab into")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    expected = build(out)
    print(f"lab written to {out}: {len(expected)} servers, root CA in ca/root.pem, inventory.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())

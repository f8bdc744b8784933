"""The key inspection of _ApexOneCertKey.cs runs here, under Mono, against a fake CryptoAPI / CNG (issue 13 item 4).

fixtures/CertKeyFake.cs.in writes the certificate's CRYPT_KEY_PROV_INFO at the x64 offsets of wincrypt.h and keeps key
containers / CNG keys (unique name, export permission, security descriptor) in memory. Checked: the provider kind comes
from dwProvType (0 = CNG), the key is opened through the named provider as a machine key without UI, the ACL comes from
the key's security descriptor (every allow and deny entry, with its SID), a missing container is an error and not a
crash, a certificate without CRYPT_KEY_PROV_INFO has no key info, and DeleteKey removes the container or the CNG key.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess

import csharp_static as cs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "fixtures", "CertKeyFake.cs.in")
UTIL = os.path.join(cs.REPO, "plugins", "module_utils", "_ApexOneCertKey.cs")
IIS_SID = "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"


def fake_source() -> str:
    structs = cs.load_reference_structs()["structs"]
    with open(TEMPLATE, encoding="utf-8") as handle:
        text = handle.read()

    def value(match):
        expected = structs[match.group(1)]["expected"]["x64"]
        return str(expected["size"] if match.group(2) == "size" else expected["offsets"][match.group(2)])

    return re.sub(r"@(\w+)\.(\w+)@", value, text)


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    work = tmp_path_factory.mktemp("certkey")
    (work / "CertKeyFake.cs").write_text(fake_source(), encoding="utf-8")
    exe = work / "certkey.exe"
    proc = subprocess.run([cs.mcs_path(), "-langversion:5", "-warnaserror+", "-platform:x64", "-r:System.dll", "-r:System.Core.dll",
                           f"-out:{exe}", UTIL, str(work / "CertKeyFake.cs")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apexone.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    der = work / "cert.der"
    der.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    return str(exe), str(der)


def run(program, scenario: str) -> list[str]:
    exe, der = program
    mono = shutil.which("mono")
    assert mono, "the Mono runtime is missing: run 'make mono'"
    proc = subprocess.run([mono, exe, scenario, der], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split()[1:])


def test_a_legacy_csp_key_is_described_from_its_provider_and_security_descriptor(program):
    lines = run(program, "csp")
    info = fields(next(line for line in lines if line.startswith("info ")))
    assert info == {"provider_type": "csp", "provider": "Microsoft_Enhanced_RSA_and_AES_Cryptographic_Provider", "csp_type": "24",
                    "container": "le-apexone-1234", "unique": "c0ffee0123456789_5a6b7c8d-0000-1111-2222-333344445555",
                    "machine": "True", "exportable": "True", "error": "<null>"}
    aces = [fields(line) for line in lines if line.startswith("ace ")]
    assert sorted((a["sid"], a["type"]) for a in aces) == sorted(
        [("S-1-5-7", "deny"), ("S-1-5-18", "allow"), ("S-1-5-32-544", "allow"), (IIS_SID, "allow")])
    assert next(a for a in aces if a["sid"] == IIS_SID)["rights"] == "Read,Synchronize"
    # opened through the provider of CRYPT_KEY_PROV_INFO, as a machine key, silently
    assert "call CryptAcquireContext le-apexone-1234 Microsoft_Enhanced_RSA_and_AES_Cryptographic_Provider 24 0x60" in lines
    assert not [line for line in lines if "NCrypt" in line]


def test_a_cng_key_is_described_through_ncrypt(program):
    lines = run(program, "cng")
    info = fields(next(line for line in lines if line.startswith("info ")))
    assert (info["provider_type"], info["csp_type"], info["exportable"], info["error"]) == ("cng", "0", "False", "<null>")
    assert info["unique"].startswith("c0ffee")
    assert len([line for line in lines if line.startswith("ace ")]) == 4
    assert "call NCryptOpenKey apexone-cng-key 0 0x60" in lines
    assert not [line for line in lines if "CryptAcquireContext" in line]


def test_a_missing_container_is_an_error_not_a_crash(program):
    info = fields(next(line for line in run(program, "csp-missing") if line.startswith("info ")))
    assert info["provider_type"] == "csp" and info["error"].startswith("Cannot_read_the_private_key_le-apexone-1234")


def test_no_crypt_key_prov_info_means_no_key(program):
    assert "info null" in run(program, "none")


def test_delete_key_removes_the_container_or_the_cng_key(program):
    csp = run(program, "csp-delete")
    assert "deleted True left 0" in csp
    assert "call CryptAcquireContext le-apexone-1234 Microsoft_Enhanced_RSA_and_AES_Cryptographic_Provider 24 0x70" in csp
    cng = run(program, "cng-delete")
    assert "deleted True left 0" in cng and "again False" in cng and "call NCryptDeleteKey" in cng


def test_a_broken_copy_that_reads_the_provider_type_wrong_fails(tmp_path, program):
    with open(UTIL, encoding="utf-8") as handle:
        text = handle.read()
    broken = text.replace('info.ProviderType = prov.ProviderType == 0 ? "cng" : "csp";', 'info.ProviderType = "cng";')
    assert broken != text
    (tmp_path / "_ApexOneCertKey.cs").write_text(broken, encoding="utf-8")
    (tmp_path / "CertKeyFake.cs").write_text(fake_source(), encoding="utf-8")
    exe = tmp_path / "broken.exe"
    subprocess.run([cs.mcs_path(), "-platform:x64", "-r:System.dll", "-r:System.Core.dll", f"-out:{exe}",
                    str(tmp_path / "_ApexOneCertKey.cs"), str(tmp_path / "CertKeyFake.cs")], check=True, capture_output=True)
    info = fields(next(line for line in run((str(exe), program[1]), "csp") if line.startswith("info ")))
    assert info["provider_type"] == "cng"  # what test_a_legacy_csp_key_is_described_from_its_provider_and_security_descriptor rejects

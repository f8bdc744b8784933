# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: pfx_info
short_description: Read a PFX/PKCS#12 file on the controller and describe its certificate
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Reads a PFX (PKCS#12) file on the Ansible controller, picks the leaf certificate whose public key matches
    the private key (not simply the first certificate), and returns its fields, its chain, and how the PFX is
    protected.
  - Never returns key material. The password never appears in an error message.
  - Use the result with P(apexone.certificates.webhost_cert_check#filter) before anything is pushed to a server.
  - Vault-encrypted files are decrypted transparently.
options:
  _terms:
    description:
      - Path of the PFX file. Relative paths are searched in the play's C(files) directories.
    type: list
    elements: path
    required: true
  encoding:
    description:
      - V(binary) for a PFX file as exported; V(base64) for a file holding the base64 text of the PFX (as an AWX
        credential injects it). Decoded in memory.
    type: str
    choices: [binary, base64]
    default: binary
  password:
    description:
      - Password of the PFX. Omit it (or give an empty string) for a PFX without password; both the empty
        password Windows uses and the absent password OpenSSL uses are tried.
    type: str
requirements:
  - cryptography >= 43 on the controller
  - asn1crypto on the controller (to read the PFX encryption; without it the lookup fails naming what to install)
notes:
  - Errors (wrong password, not a PKCS#12 file, truncated file, PEM or base64 text given where a PFX is
    expected, a key without a certificate, only CA certificates) raise an error that says what is wrong.
"""

EXAMPLES = r"""
- name: Describe the new web host certificate
  ansible.builtin.set_fact:
    new_cert: "{{ lookup('apexone.certificates.pfx_info', 'apexone01.pfx', password=apexone_cert_pfx_password) }}"
  no_log: false

- name: Refuse a certificate that Apex One cannot use
  ansible.builtin.assert:
    that: check.ok
    fail_msg: "{{ check.problems | map(attribute='message') | join('; ') }}"
  vars:
    check: "{{ new_cert | apexone.certificates.webhost_cert_check(hostname='apexone01.corp.example') }}"

- name: Warn when the PFX uses AES encryption (Windows Server 2016 cannot import it)
  ansible.builtin.debug:
    msg: "{{ new_cert.encryption }} / MAC {{ new_cert.mac_algorithm }}"
"""

RETURN = r"""
_value:
  description: One dictionary per file.
  type: list
  elements: dict
  contains:
    certificate_pem:
      description: The leaf certificate (the one that matches the private key), PEM.
      type: str
    chain_pem:
      description: The other certificates of the PFX (intermediates, root), PEM, without the leaf.
      type: list
      elements: str
    thumbprint:
      description: SHA-1 fingerprint, upper-case hex, as the Windows certificate store shows it.
      type: str
      sample: 3C5D1A9F0E8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D
    sha256_fingerprint:
      description: SHA-256 fingerprint, upper-case hex.
      type: str
    serial_number:
      description: Serial number, upper-case hex.
      type: str
    subject:
      description: Subject distinguished name (RFC 4514).
      type: str
    subject_cn:
      description: Subject common name, or null.
      type: str
    issuer:
      description: Issuer distinguished name (RFC 4514).
      type: str
    san_dns:
      description: DNS names of the Subject Alternative Name.
      type: list
      elements: str
    san_ip:
      description: IP addresses of the Subject Alternative Name.
      type: list
      elements: str
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
      sample: "2026-01-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    key_type:
      description: C(RSA), C(EC), C(DSA), C(Ed25519) or C(Ed448).
      type: str
    key_size:
      description: Key size in bits.
      type: int
    signature_hash:
      description: Hash of the certificate signature (C(sha256), C(sha1)...).
      type: str
    extended_key_usage:
      description: Extended key usage OIDs (empty when the extension is absent).
      type: list
      elements: str
    is_ca:
      description: Whether basicConstraints says CA:TRUE.
      type: bool
    self_signed:
      description: Whether the certificate signed itself.
      type: bool
    has_private_key:
      description: Whether the PFX holds a private key.
      type: bool
    key_matches_certificate:
      description: Whether the private key belongs to the returned certificate.
      type: bool
    friendly_name:
      description: The PKCS#12 friendly name of the leaf, or null.
      type: str
    encryption:
      description: How the private key is protected, for example C(PBES2/AES-256-CBC/PBKDF2-SHA-256) or C(PBE-SHA1-3DES).
      type: str
    certificate_encryption:
      description: How the certificate bags are protected (C(none) when not encrypted).
      type: str
    mac_algorithm:
      description: Digest of the integrity MAC (C(SHA-1), C(SHA-256)), or null.
      type: str
    pfx_problems:
      description:
        - Problems found while reading the PFX (C(duplicate_leaf), C(key_mismatch), C(modern_pfx_encryption)),
          in the same form as the problems of P(apexone.certificates.webhost_cert_check#filter), which merges them.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    CertificateError,
    decode_pfx_text,
    pfx_info,
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        password = self.get_option("password")
        results = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "files", term, ignore_missing=True)
            if not path:
                raise AnsibleLookupError(f"pfx_info: the PFX file '{term}' was not found (searched the play's files paths)")
            # In memory, decrypted when vault-encrypted: no decrypted copy on the controller's disk (#14).
            try:
                data, _plaintext = self._loader._get_file_contents(path)
            except AnsibleError as exc:
                raise AnsibleLookupError(f"pfx_info: cannot read '{term}': {to_native(exc.message)}") from None
            data = bytes(data)
            try:
                if self.get_option("encoding") == "base64":
                    data = decode_pfx_text(data)
                results.append(pfx_info(data, password))
            except CertificateError as exc:
                raise AnsibleLookupError(f"pfx_info: '{term}': {exc}") from None
        return results

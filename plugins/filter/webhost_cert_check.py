# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webhost_cert_check
short_description: Check that a certificate can be the web host certificate of an Apex One server
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Runs on the controller, before anything is pushed to a server, every check the Trend Micro procedure
    (KA-0009125) and browsers and agents need, and returns the problems found with stable codes.
  - C(ok) is false when any problem has severity C(error).
  - "Problem codes (severity): C(cn_mismatch) (error) the subject CN is not the host name, as the KB requires;
    C(hostname_not_in_san) (error) the host name is not covered by the SAN (RFC 6125: DNS names first, a wildcard
    only as the whole left-most label, case-insensitive); C(expired) (error); C(not_yet_valid) (error);
    C(expires_soon) (warning) fewer than O(min_days) days left; C(no_private_key) (error) the PFX has no key;
    C(key_mismatch) (error) the private key does not belong to the certificate; C(duplicate_leaf) (error) the PFX
    holds the leaf twice or several keys; C(weak_key) (error) RSA below 2048 bits, EC below 256 bits, DSA;
    C(weak_signature) (error) MD5/SHA-1 signature on the leaf or an intermediate; C(no_server_auth_eku) (error)
    an EKU without Server Authentication; C(is_ca) (error) a CA certificate given as leaf; C(self_signed) (error);
    C(chain_incomplete) (error) an intermediate may be missing: the chain stops at the leaf, or at a CA whose issuer
    (in neither the chain nor O(ca)) names the organisation or AD domain of a CA in O(ca), or an intermediate is
    only in O(ca); the message names both fixes (the intermediate into the PFX, or the root into O(ca));
    C(chain_untrusted) (error) the chain leads to a CA that O(ca) does not hold (a root outside the bundle, or a CA
    of another organisation: adding intermediates cannot fix it; the message names that CA and the bundle's
    certificates), or the chain does not validate against O(ca) at O(now) (cryptography's path validation; the
    message names the certificate where the path stops and why, in the verifier's words);
    C(modern_pfx_encryption) (warning) AES/PBES2 PFX that Windows Server 2016 and older cannot import."
  - Without O(ca) no chain verdict (C(chain_incomplete), C(chain_untrusted)) is given.
options:
  _input:
    description:
      - The certificate as PEM text (leaf first; further certificates are its chain), or the dictionary
        returned by the P(apexone.certificates.pfx_info#lookup) lookup (its key and PFX problems are then checked too).
    type: raw
    required: true
  hostname:
    description:
      - The name agents and browsers use to reach the Apex One server (FQDN, or short name, or IP address).
      - Upper case and one trailing dot are ignored.
    type: str
    required: true
  chain:
    description: Extra intermediate certificates (PEM text or a list of PEM texts) for the chain verdicts.
    type: raw
  ca:
    description: PEM bundle (text or list) of the trusted root CA certificate(s). Enables the chain verdicts.
    type: raw
  key:
    description: The private key (PEM) for PEM input; C(key_mismatch) is reported when it does not match.
    type: str
  key_password:
    description: Password of an encrypted O(key).
    type: str
  min_days:
    description: C(expires_soon) is reported when fewer days are left.
    type: int
    default: 30
  now:
    description: Validation time, ISO 8601 (for example C(2027-01-01T00:00:00Z)). Default is the current time.
    type: str
requirements:
  - cryptography >= 43 on the controller
"""

EXAMPLES = r"""
- name: Check a PFX before anything is pushed
  ansible.builtin.assert:
    that: check.ok
    fail_msg: "{{ inventory_hostname }}: {{ check.problems | map(attribute='code') | join(', ') }}"
  vars:
    pfx: "{{ lookup('apexone.certificates.pfx_info', apexone_cert_pfx_path, password=apexone_cert_pfx_password) }}"
    check: >-
      {{ pfx | apexone.certificates.webhost_cert_check(hostname=apexone_cert_hostname,
               ca=lookup('ansible.builtin.file', 'corp-root-ca.pem'), min_days=45) }}

- name: Check a PEM certificate and its key
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'server.pem') | apexone.certificates.webhost_cert_check(
             hostname='apexone01.corp.example', key=lookup('ansible.builtin.file', 'server.key')) }}"
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    ok:
      description: False when any problem has severity C(error).
      type: bool
    problems:
      description: One entry per problem, in a stable order.
      type: list
      elements: dict
      contains:
        code:
          description: Stable problem code (see the description).
          type: str
        severity:
          description: C(error) or C(warning).
          type: str
        message:
          description: What is wrong and what to do.
          type: str
    thumbprint:
      description: SHA-1 thumbprint of the leaf, upper-case hex.
      type: str
    subject_cn:
      description: Subject CN of the leaf.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    days_left:
      description: Whole days until expiry at O(now) (negative when expired).
      type: int
    hostname:
      description: The host name as compared (lower case, IDNA, no trailing dot).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError, check_from_input


def webhost_cert_check(data, hostname=None, chain=None, ca=None, key=None, key_password=None, min_days=30, now=None):
    """Check a certificate (PEM or pfx_info dict) for use as the Apex One web host certificate."""
    try:
        return check_from_input(
            data, hostname=hostname, chain=chain, ca=ca, key=key, key_password=key_password, min_days=min_days, now=now
        )
    except CertificateError as exc:
        raise AnsibleFilterError(f"webhost_cert_check: {exc}") from None


class FilterModule:
    def filters(self):
        return {"webhost_cert_check": webhost_cert_check}

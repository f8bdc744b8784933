# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: x509_info
short_description: Describe a PEM or DER certificate (the same fields as the pfx_info lookup)
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Parses a certificate given as PEM text (leaf first; further certificates become the chain) or DER bytes
    and returns the same fields as the P(apexone.certificates.pfx_info#lookup) lookup.
options:
  _input:
    description: The certificate, PEM text (one or more C(CERTIFICATE) blocks) or DER.
    type: raw
    required: true
requirements:
  - cryptography >= 43 on the controller
"""

EXAMPLES = r"""
- name: Describe the public certificate
  ansible.builtin.debug:
    msg: "{{ (lookup('ansible.builtin.file', 'apexone01.cer.pem') | apexone.certificates.x509_info).thumbprint }}"
"""

RETURN = r"""
_value:
  description:
    - The certificate fields; see P(apexone.certificates.pfx_info#lookup) for each field.
    - C(has_private_key) is always false and C(friendly_name) null here.
  type: dict
  contains:
    thumbprint:
      description: SHA-1 fingerprint, upper-case hex, as Windows shows it.
      type: str
    subject_cn:
      description: Subject common name.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    san_dns:
      description: DNS names of the Subject Alternative Name.
      type: list
      elements: str
    chain_pem:
      description: The certificates after the first, PEM.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError, x509_info


def x509_info_filter(data):
    """Describe a PEM/DER certificate."""
    try:
        return x509_info(data)
    except CertificateError as exc:
        raise AnsibleFilterError(f"x509_info: {exc}") from None


class FilterModule:
    def filters(self):
        return {"x509_info": x509_info_filter}

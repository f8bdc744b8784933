# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: certreq_inf
short_description: The certreq INF text of a certificate request made on the server
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Turns a request spec into the INF text C(certreq.exe -new -machine) reads
    (M(apexone.certificates.win_apexone_cert_request) option O(apexone.certificates.win_apexone_cert_request#module:inf)).
  - The key is made in the machine key store (C(MachineKeySet = TRUE)); C(legacy) is the Microsoft RSA SChannel
    Cryptographic Provider (C(ProviderType = 12), C(KeySpec = 1), AT_KEYEXCHANGE), C(cng) the Microsoft Software Key
    Storage Provider. Key usage digital signature and key encipherment, extended key usage server authentication,
    the names in the subject alternative name extension (C(2.5.29.17)), the template (when set) as
    C(CertificateTemplate) in C([RequestAttributes]).
  - Values that cannot be written into an INF without changing its meaning (double quotes, C(%), line breaks, names
    that are not host names) are refused, not escaped.
  - Runs on the controller; pure computation, no connection.
options:
  _input:
    description:
      - The request spec, a dict with C(subject_cn) (str), C(dns_names) (list of str; the subject CN is always
        included), C(ip_addresses) (list of str), C(key_length) (2048, 3072 or 4096), C(key_provider) (C(legacy) or
        C(cng)), C(exportable) (bool), C(friendly_name) (str), C(hash_algorithm) (C(sha256), C(sha384), C(sha512)),
        C(template) (str or null).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Make the key and the request on the server
  apexone.certificates.win_apexone_cert_request:
    inf: "{{ request_spec | apexone.certificates.certreq_inf }}"
  vars:
    request_spec:
      subject_cn: apex01.corp.example
      dns_names: [apex01.corp.example, apex01]
      ip_addresses: []
      key_length: 2048
      key_provider: legacy
      exportable: false
      friendly_name: Apex One web host 2026
      hash_algorithm: sha256
      template: WebServer
"""

RETURN = r"""
_value:
  description: The INF text (CRLF line ends).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._certreq import CertreqError, build_inf


def certreq_inf(spec):
    """The certreq INF text of a request spec."""
    try:
        return build_inf(spec)
    except CertreqError as exc:
        raise AnsibleFilterError(f"certreq_inf: {exc}") from None


class FilterModule:
    def filters(self):
        return {"certreq_inf": certreq_inf}

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: certreq_submit_result
short_description: What a CA answered to a request submitted with certreq
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Classifies the registered result of M(apexone.certificates.win_apexone_cert_submit) (certreq's exit code, its
    output, the certificate and chain files it wrote) as C(issued), C(pending), C(denied) or C(failed), with the CA's
    RequestId, the issued certificate and the CA's chain.
  - C(issued) needs a written certificate and exit code 0 (certreq's text is localised; the English text only
    confirms it). C(pending) means the CA took the request under submission (a CA manager must issue it; retrieve it
    later with O(apexone.certificates.win_apexone_cert_submit#module:request_id)). A failed task result
    (C(failed=true)) and check mode give C(failed).
  - Runs on the controller; pure computation, no connection.
requirements:
  - cryptography on the controller, to read certreq's chain file (RV(_value.chain))
options:
  _input:
    description: The registered result of M(apexone.certificates.win_apexone_cert_submit).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Submit the request to the enterprise CA
  apexone.certificates.win_apexone_cert_submit:
    request_thumbprint: "{{ request.request_thumbprint }}"
    ca_config: 'ca01.corp.example\Corp Issuing CA'
    template: WebServer
  register: submitted

- name: Stop unless the CA issued the certificate
  ansible.builtin.assert:
    that: (submitted | apexone.certificates.certreq_submit_result).status == 'issued'
    fail_msg: "{{ (submitted | apexone.certificates.certreq_submit_result).message }}"
"""

RETURN = r"""
_value:
  description: What the CA answered.
  type: dict
  contains:
    status:
      description: C(issued), C(pending), C(denied) or C(failed).
      type: str
    request_id:
      description: The CA's RequestId (null when certreq printed none and none was given).
      type: int
    message:
      description: One line that says what happened (and what to do for C(pending)).
      type: str
    certificate:
      description: The PEM text of the issued certificate (LF line ends), null unless C(issued).
      type: str
    chain:
      description:
        - The other certificates of certreq's chain file (the issuing CA and those above it, roots included), PEM
          texts, the issuer of the certificate first and so on upward; empty unless C(issued) or when certreq wrote no
          chain file.
        - Suitable for the O(apexone.certificates.win_webhost_cert#module:chain) option of the finish mode (roots are
          skipped there), after the controller's checks.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._certreq import CertreqError, submit_result


def certreq_submit_result(result):
    """What the CA answered to a submission."""
    try:
        return submit_result(result)
    except CertreqError as exc:
        raise AnsibleFilterError(f"certreq_submit_result: {exc}") from None


class FilterModule:
    def filters(self):
        return {"certreq_submit_result": certreq_submit_result}

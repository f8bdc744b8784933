#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_apexone_cert_submit
short_description: Submit a request made on the Apex One server to an enterprise CA (certreq -submit / -retrieve)
version_added: 0.1.0
description:
  - Renew in place (issue 16), signing on the server by an enterprise CA (Active Directory Certificate Services).
  - Submits the saved request file of the pending request O(request_thumbprint) (made by
    M(apexone.certificates.win_apexone_cert_request)) with
    C(certreq.exe -submit -q -config <ca_config> [-attrib CertificateTemplate:<template>] <req> <cer> <p7b>). With
    O(request_id) it retrieves a request the CA took under submission before
    (C(certreq.exe -retrieve -q -config <ca_config> <request_id> <cer> <p7b>)). The second file is certreq's
    certificate chain file (PKCS#7), returned in RV(certificate_chain).
  - Returns certreq's raw answer; the controller reads it with the
    P(apexone.certificates.certreq_submit_result#filter) filter (issued, pending, denied or failed, with the
    RequestId). A pending request is reported, never waited for; a denied one changes nothing on the server.
  - certreq runs through Ansible.Process (C(CreateProcess), arguments quoted by C(Ansible.ModuleUtils.ArgvParser)),
    never through a shell, in a work folder under the admin-only request folder that is deleted afterwards.
options:
  request_thumbprint:
    description:
      - The pending request (RV(apexone.certificates.win_apexone_cert_request#module:request_thumbprint)); its saved
        request file is submitted.
    type: str
    required: true
  ca_config:
    description:
      - The CA configuration string, C(CAHostName\CAName) (certreq C(-config)).
    type: str
    required: true
  template:
    description:
      - The certificate template (for example C(WebServer)), sent as C(-attrib CertificateTemplate:<template>).
      - An enterprise CA needs one, here or in the request (the INF's C([RequestAttributes])).
    type: str
  request_id:
    description:
      - Retrieve this RequestId (a request the CA took under submission) instead of submitting.
    type: int
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Checks the options and that the saved request file exists; submits nothing.
  diff_mode:
    support: none
notes:
  - C(changed) is true when a request was submitted or retrieved (the CA's database changes), whatever the CA
    answered.
  - The account that runs the module needs the Enroll permission on the template, and the CA must be reachable
    over DCOM/RPC from the server.
  - certreq's output is localised; the filter recognises an issued certificate by the written certificate file.
seealso:
  - module: apexone.certificates.win_apexone_cert_request
  - module: apexone.certificates.win_apexone_cert_accept
  - name: certreq (Microsoft documentation)
    description: The -submit and -retrieve verbs and the -config and -attrib options.
    link: https://learn.microsoft.com/windows-server/administration/windows-commands/certreq_1
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Submit the request to the enterprise CA
  apexone.certificates.win_apexone_cert_submit:
    request_thumbprint: "{{ request.request_thumbprint }}"
    ca_config: 'ca01.corp.example\Corp Issuing CA'
    template: WebServer
  register: submitted

- name: Retrieve a request a CA manager has approved since
  apexone.certificates.win_apexone_cert_submit:
    request_thumbprint: "{{ request.request_thumbprint }}"
    ca_config: 'ca01.corp.example\Corp Issuing CA'
    request_id: 4711
  register: submitted

- name: What the CA answered
  ansible.builtin.set_fact:
    answer: "{{ submitted | apexone.certificates.certreq_submit_result }}"
"""

RETURN = r"""
certreq_exit_code:
  description: certreq's exit code (0 when it got an answer from the CA, else an HRESULT); V(null) in check mode.
  returned: always
  type: int
certreq_output:
  description: certreq's output (standard output, then standard error); V(null) in check mode.
  returned: always
  type: str
  sample: "RequestId: 4711\r\nRequestId: \"4711\"\r\nCertificate retrieved(Issued) Issued\r\n"
certificate:
  description: The certificate file certreq wrote (base64 text), V(null) when it wrote none (pending, denied, failed).
  returned: always
  type: str
certificate_chain:
  description:
    - The chain file certreq wrote next to the certificate (base64 PKCS#7 with the certificate and the CA's chain),
      V(null) when it wrote none. The P(apexone.certificates.certreq_submit_result#filter) filter returns its CA
      certificates as PEM texts.
  returned: always
  type: str
request_id:
  description: O(request_id) as given (V(null) for a submission; the RequestId is in RV(certreq_output)).
  returned: always
  type: int
"""

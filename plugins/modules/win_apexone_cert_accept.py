#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_apexone_cert_accept
short_description: Install an issued certificate onto the key of its pending request (certreq -accept)
version_added: 0.1.0
description:
  - Renew in place (issue 16). Runs C(certreq.exe -accept -machine -q <cer>) for O(certificate). certreq puts the
    certificate into C(Cert:\LocalMachine\My), linked to the private key of the pending request with the same public
    key, and removes that request from C(Cert:\LocalMachine\REQUEST). The saved request file is deleted.
  - Works for both ways of signing, a certificate the enterprise CA issued
    (M(apexone.certificates.win_apexone_cert_submit)) or one the controller's own CA signed.
  - Check the certificate on the controller first (P(apexone.certificates.webhost_cert_check#filter), its public key
    is the request's, its names are the ones asked for); the module only installs it.
  - Refuses, before running certreq, a certificate whose public key matches no pending request that still has its
    key (certreq would install it without a private key).
  - Idempotent. When the certificate is already in C(Cert:\LocalMachine\My) with a private key, nothing is done
    (C(changed=false)).
  - The friendly name, key readers, TrustedPeople copy and intermediates are then set by
    M(apexone.certificates.win_webhost_cert) in finish mode (O(apexone.certificates.win_webhost_cert#module:thumbprint)
    without O(apexone.certificates.win_webhost_cert#module:src)). To roll back an accepted certificate, remove it
    and its key with M(apexone.certificates.win_webhost_cert) O(apexone.certificates.win_webhost_cert#module:state=absent).
options:
  certificate:
    description:
      - The PEM text of the issued certificate (the leaf only).
    type: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Finds the pending request the certificate belongs to and reports the change; runs no certreq.
  diff_mode:
    support: partial
    details: Shows whether the certificate is in My and which pending request it answers.
notes:
  - Needs administrator rights (the machine key store).
seealso:
  - module: apexone.certificates.win_apexone_cert_request
  - module: apexone.certificates.win_apexone_cert_submit
  - module: apexone.certificates.win_webhost_cert
  - name: certreq (Microsoft documentation)
    description: The -accept verb and the -machine option.
    link: https://learn.microsoft.com/windows-server/administration/windows-commands/certreq_1
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Install the issued certificate onto the pending key
  apexone.certificates.win_apexone_cert_accept:
    certificate: "{{ answer.certificate }}"
  register: accepted

- name: Finish it like an imported certificate (friendly name, TrustedPeople, intermediates)
  apexone.certificates.win_webhost_cert:
    thumbprint: "{{ accepted.thumbprint }}"
    friendly_name: Apex One web host 2026
    chain: "{{ issued_chain_pem | default([]) }}"
"""

RETURN = r"""
thumbprint:
  description: The thumbprint of the certificate (upper-case hex).
  returned: always
  type: str
  sample: 3F1C0A7E5D2B9C8A4E6F1D0B2A3C4E5F60718293
request_thumbprint:
  description: The pending request it answered (V(null) when the certificate was installed already).
  returned: always
  type: str
certreq_exit_code:
  description: certreq's exit code; V(null) when certreq did not run (already installed, check mode).
  returned: always
  type: int
certreq_output:
  description: certreq's output; V(null) when certreq did not run.
  returned: always
  type: str
"""

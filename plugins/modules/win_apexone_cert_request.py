#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_apexone_cert_request
short_description: Make a key pair and a certificate request on the Apex One server (certreq -new)
version_added: 0.1.0
description:
  - Renew in place (issue 16). The private key is made on the server, in the machine key store, and never leaves
    it; the request (PKCS#10) comes back to the controller.
  - O(state=present) writes O(inf) to a work folder and runs C(certreq.exe -new -q -machine <inf> <req>). certreq
    creates the key and keeps the pending request, a certificate linked to the new key, in
    C(Cert:\LocalMachine\REQUEST) ("Certificate Enrollment Requests"). The request file is saved as
    C(%ProgramData%\apexone.certificates\requests\<request_thumbprint>.req) (a folder that only SYSTEM and
    Administrators can use, like the backups folder); the work folder is deleted.
  - The module decides nothing about the request's content. The controller computes the INF text from the
    request spec with the P(apexone.certificates.certreq_inf#filter) filter (subject, names, key length, provider,
    exportability, template) and checks the issued certificate; the module runs certreq and returns its raw result.
  - certreq runs through Ansible.Process (C(CreateProcess), arguments quoted by C(Ansible.ModuleUtils.ArgvParser)),
    never through a shell.
  - Idempotent with O(reuse_thumbprint). When that entry of C(Cert:\LocalMachine\REQUEST) still has its private
    key and its saved request file, it is returned unchanged (C(changed=false)) and no new key is made. Whether a
    pending request still matches what is wanted is decided on the controller
    (M(apexone.certificates.win_server_info) returns the pending requests).
  - O(state=absent) removes the entry O(request_thumbprint) from C(Cert:\LocalMachine\REQUEST), deletes its private
    key (unless another certificate of a LocalMachine store is linked to it) and the saved request file. This is the
    rollback of a request that was never accepted.
options:
  state:
    description:
      - V(present) makes (or reuses) a pending request, V(absent) removes one.
    type: str
    choices: [absent, present]
    default: present
  inf:
    description:
      - The INF text C(certreq -new) reads, from the P(apexone.certificates.certreq_inf#filter) filter.
      - It must set C(MachineKeySet = TRUE) (certreq runs with C(-machine), and the two must agree).
      - Required with O(state=present).
    type: str
  reuse_thumbprint:
    description:
      - The thumbprint of a pending request made before (RV(request_thumbprint) of an earlier run).
      - When that entry still has its key and its saved request file, it is returned instead of a new request.
    type: str
  request_thumbprint:
    description:
      - The pending request to remove with O(state=absent).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Reports whether a request would be made or removed; runs no certreq and changes nothing.
  diff_mode:
    support: partial
    details: Shows whether a pending request and its file are there before and after.
notes:
  - Needs administrator rights (the machine key store and C(Cert:\LocalMachine\REQUEST)). Over WinRM, a key made in
    the machine store may need C(become) (C(become_method=runas), C(become_user=SYSTEM)) when the session cannot
    use it (the double hop).
  - The request file is public information (a request holds no private key); its folder is admin-only so that
    nobody else can plant a request there.
  - certreq's output is localised; the module returns it as it is.
seealso:
  - module: apexone.certificates.win_apexone_cert_submit
  - module: apexone.certificates.win_apexone_cert_accept
  - module: apexone.certificates.win_server_info
  - name: certreq (Microsoft documentation)
    description: The INF sections and keys, and the -new, -submit, -retrieve and -accept verbs.
    link: https://learn.microsoft.com/windows-server/administration/windows-commands/certreq_1
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Make the key and the request on the server (reuse a pending one from an earlier run)
  apexone.certificates.win_apexone_cert_request:
    inf: "{{ request_spec | apexone.certificates.certreq_inf }}"
    reuse_thumbprint: "{{ pending_thumbprint | default(omit) }}"
  register: request

- name: Remove the pending request and its key (rollback of a request that was never accepted)
  apexone.certificates.win_apexone_cert_request:
    state: absent
    request_thumbprint: "{{ request.request_thumbprint }}"
"""

RETURN = r"""
request:
  description:
    - The request as certreq wrote it (base64 text with C(-----BEGIN NEW CERTIFICATE REQUEST-----) lines, CRLF).
    - V(null) in check mode.
  returned: state=present
  type: str
request_thumbprint:
  description: The thumbprint of the new (or reused) entry of C(Cert:\LocalMachine\REQUEST); with O(state=absent), the one removed.
  returned: always
  type: str
  sample: 6F1E0C3A9B2D4E5F60718293A4B5C6D7E8F90112
request_file:
  description: The saved request file (V(null) when there is none).
  returned: always
  type: str
  sample: C:\ProgramData\apexone.certificates\requests\6F1E0C3A9B2D4E5F60718293A4B5C6D7E8F90112.req
reused:
  description: Whether the pending request O(reuse_thumbprint) was returned instead of a new one.
  returned: state=present
  type: bool
certreq_exit_code:
  description: certreq's exit code (0 on success, else an HRESULT); V(null) when certreq did not run (reuse, check mode).
  returned: state=present
  type: int
certreq_output:
  description: certreq's output (standard output, then standard error); V(null) when certreq did not run.
  returned: state=present
  type: str
  sample: "CertReq: Request Created"
removed:
  description: Whether the pending request was in C(Cert:\LocalMachine\REQUEST) and was removed.
  returned: state=absent
  type: bool
key_deleted:
  description: Whether its private key was deleted (false when another certificate is linked to it).
  returned: state=absent
  type: bool
key_kept_for:
  description: The certificates (C(Store\THUMBPRINT)) still linked to the key, which was kept for them.
  returned: state=absent and the pending request had a key
  type: list
  elements: str
"""

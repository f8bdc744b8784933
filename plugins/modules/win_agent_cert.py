#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_agent_cert
short_description: Replace the Apex One server certificate that agents use (OfcIPCer.dat)
version_added: 0.1.0
description:
  - Writes the public web-server certificate as C(PCCSRV\Pccnt\Common\OfcIPCer.dat), knowledge-base step 4
    (Trend Micro KA-0009125). Apex One deploys this file to the agents, which use it to authenticate the server
    (Apex One 2019 and later).
  - Keeps the encoding of the existing file by default (DER or PEM), makes a timestamped backup of the old
    file next to it, writes through a temporary file that replaces the old one in a single step, and reads the
    file back to verify the thumbprint.
  - Nothing is written when the file already holds the same certificate in the wanted encoding. The comparison
    is by certificate (thumbprint) and encoding, not byte for byte, so a PEM file that differs only in line
    endings or white space is left alone.
  - Never touches C(OfcNTCer.dat), which holds the different agent-authentication certificate.
options:
  certificate:
    description:
      - The public certificate as PEM text (C(-----BEGIN CERTIFICATE-----)). Only the first certificate block is
        used, so a chain with the server certificate first may be given.
      - Text that contains a private key is refused.
      - Usually the C(certificate_pem) of the P(apexone.certificates.pfx_info#lookup) lookup.
    type: str
    required: true
  install_path:
    description:
      - The Apex One server folder (C(...\PCCSRV)) or its parent. Discovered as in
        M(apexone.certificates.win_server_info) when not set.
    type: path
  backup:
    description:
      - Copy the existing file to C(OfcIPCer.dat.<yyyyMMdd-HHmmss>.bak) in the same folder before replacing it.
      - The backup path is returned in RV(backup_file) for a later rollback.
    type: bool
    default: true
  encoding:
    description:
      - How to encode the file.
      - V(auto) uses the encoding of the existing file, and DER when there is no file or its encoding is neither
        DER nor PEM (the encoding is not documented by Trend Micro; DER is what the Windows export wizard writes
        by default).
      - V(der) writes the binary certificate; V(pem) writes Base64 text with C(-----BEGIN CERTIFICATE-----), 64
        characters a line, with the line endings of the existing PEM file or CRLF.
    type: str
    choices: [ auto, der, pem ]
    default: auto
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms:
      - windows
notes:
  - This module only writes the file. Agents receive it from the server; the apexone.certificates.webhost_certificate
    role stops the running Apex One services before step 7 and puts them back afterwards (the master service is
    restarted then), and its verification checks that the master service runs (KA-0010488). Used alone, restart the
    master service yourself (M(apexone.certificates.win_apexone_services)). See docs/rollout.md for what agents see.
  - The backup is made next to the original in C(Pccnt\Common); remove old backups with M(ansible.windows.win_file)
    when they are no longer needed.
seealso:
  - module: apexone.certificates.win_server_info
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Read the new certificate on the controller
  ansible.builtin.set_fact:
    apexone_new_cert: "{{ lookup('apexone.certificates.pfx_info', 'files/apex01.pfx', password=apexone_pfx_password) }}"
  no_log: true

- name: Deploy the public certificate to the agents
  apexone.certificates.win_agent_cert:
    certificate: "{{ apexone_new_cert.certificate_pem }}"
  register: agent_cert

- name: Roll back to the previous file
  ansible.windows.win_copy:
    src: "{{ agent_cert.backup_file }}"
    dest: "{{ agent_cert.path }}"
    remote_src: true
  when: agent_cert.backup_file is truthy
"""

RETURN = r"""
path:
  description: Full path of C(OfcIPCer.dat).
  returned: success
  type: str
  sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\Pccnt\Common\OfcIPCer.dat
thumbprint:
  description: SHA-1 thumbprint of the certificate now in the file (upper-case hex).
  returned: success
  type: str
  sample: 3C7B5A1F0E2D4C6B8A9F1E2D3C4B5A6978877665
previous_thumbprint:
  description: Thumbprint of the certificate the file held before, or V(null) when there was no readable file.
  returned: success
  type: str
  sample: 9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B
encoding:
  description: Encoding written (or kept), V(der) or V(pem).
  returned: success
  type: str
  sample: der
previous_encoding:
  description: Encoding of the file before (V(der), V(pem), V(empty), V(unknown)), or V(null) when it did not exist.
  returned: success
  type: str
  sample: der
sha256:
  description: SHA-256 of the file content after the change (upper-case hex).
  returned: success
  type: str
backup_file:
  description: Path of the backup of the old file, or V(null) when none was made. In check mode, the name the
    backup would get.
  returned: success
  type: str
  sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\Pccnt\Common\OfcIPCer.dat.20250504-101500.bak
"""

#!/usr/bin/python

# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_agent_cert
short_description: Replace the Apex One server certificate that agents use (OfcIPCer.dat)
version_added: 0.1.0
description:
  - Writes C(PCCSRV\Pccnt\Common\OfcIPCer.dat), knowledge-base step 4 (Trend Micro KA-0009125). Apex One deploys
    this file to the agents, which use it to authenticate the server (Apex One 2019 and later).
  - The module writes the bytes it is given, as they are; it decodes and converts nothing. The controller computes
    them (the P(apexone.certificates.webhost_plan#filter) plan, the new public certificate in the encoding of the
    current file, DER or PEM with its line endings) from the raw bytes M(apexone.certificates.win_server_info)
    gathered.
  - Compare-and-swap. The file is written only if its SHA-256 is still O(expected_sha256), the value gathered
    with the facts. Otherwise the module fails, writes nothing, and says to gather the facts again.
    A file that already holds exactly O(content) is left alone (C(changed=false)), whatever O(expected_sha256) says,
    so a repeated run and a repeated rollback are no-ops.
  - Before writing, the current bytes are copied to the admin-only backup folder
    C(%ProgramData%\apexone.certificates\backups) (never to C(Pccnt\Common), whose files are deployed to agents);
    the path is returned in RV(backup_file). The new bytes go to a temporary file in the same folder that replaces
    the old file in one step (C([System.IO.File]::Replace), which keeps the file's ACL and attributes), so agents
    never download a half-written file; the file is then read back and its SHA-256 checked.
  - Never touches C(OfcNTCer.dat), which holds the different agent-authentication certificate.
options:
  content:
    description:
      - The new file content, base64 of the raw bytes.
      - Usually the C(args.content) of the C(apexone.certificates.win_agent_cert) action of the plan.
      - An empty content is refused.
    type: str
    required: true
  expected_sha256:
    description:
      - SHA-256 (hex, any case) of the file the content replaces, as M(apexone.certificates.win_server_info)
        returned it in C(ofcipcer.sha256).
      - Omit it (or give V(null)) only when the file did not exist; the module then requires that it still does not.
    type: str
  install_path:
    description:
      - The Apex One server folder (C(...\PCCSRV)) or its parent. Discovered as in
        M(apexone.certificates.win_server_info) when not set.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
attributes:
  check_mode:
    support: full
    details: Compares the SHA-256 values and reports whether the file would change; writes and backs up nothing.
  diff_mode:
    support: partial
    details: The diff shows the path and the SHA-256 before and after. The plan (C(files[].diff)) describes the change.
notes:
  - This module only writes the file and restarts nothing. Agents receive it from the server; the role
    C(apexone.certificates.webhost_certificate) stops the running Apex One services before step 7 and puts each one
    back afterwards (the master service is restarted then), and its verification checks that the master service
    runs (KA-0010488). Used alone, restart the master service yourself (M(apexone.certificates.win_apexone_services)).
    See docs/rollout.md for what agents see.
  - To roll back, call the module again with the bytes the file had (the role keeps them in its run record) and
    O(expected_sha256) set to RV(sha256); the file is restored only if nobody changed it since.
  - Backups are kept until removed; the folder is created with Full Control for SYSTEM and Administrators only.
seealso:
  - module: apexone.certificates.win_server_info
  - module: apexone.certificates.win_cert_persistence
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Gather the facts (raw bytes and SHA-256 of OfcIPCer.dat)
  apexone.certificates.win_server_info:
  register: apexone_info

- name: Plan on the controller (computes the new OfcIPCer.dat bytes)
  ansible.builtin.set_fact:
    apexone_plan: "{{ apexone_info | apexone.certificates.webhost_plan(desired) }}"

- name: Deploy the public certificate to the agents (compare-and-swap)
  apexone.certificates.win_agent_cert:
    content: "{{ agent_action.args.content }}"
    expected_sha256: "{{ agent_action.args.expected_sha256 }}"
  vars:
    agent_action: "{{ apexone_plan.actions | selectattr('module', 'equalto', 'apexone.certificates.win_agent_cert') | first }}"
  register: agent_cert

- name: Roll back to the bytes the file had, only if it still holds what was written
  apexone.certificates.win_agent_cert:
    content: "{{ apexone_info.ofcipcer.content }}"
    expected_sha256: "{{ agent_cert.sha256 }}"
  when: rollback_needed | default(false)
"""

RETURN = r"""
path:
  description: Full path of C(OfcIPCer.dat).
  returned: success, and on failure once the folder was found
  type: str
  sample: C:\Program Files (x86)\Trend Micro\Apex One\PCCSRV\Pccnt\Common\OfcIPCer.dat
sha256:
  description: SHA-256 (lower-case hex) of O(content), what the file holds after the module (or would, in check mode).
  returned: success
  type: str
  sample: 3f1c0a7e5d2b9c8a4e6f1d0b2a3c4e5f60718293a4b5c6d7e8f90112233445
previous_sha256:
  description: SHA-256 of the file before, or V(null) when it did not exist.
  returned: success
  type: str
  sample: 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b
backup_file:
  description: Path of the backup of the previous bytes, or V(null) when nothing was written (unchanged, check mode,
    no previous file).
  returned: success
  type: str
  sample: C:\ProgramData\apexone.certificates\backups\OfcIPCer.dat.20250504-101500.bak
"""

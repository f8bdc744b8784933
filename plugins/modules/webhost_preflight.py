#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: webhost_preflight
short_description: Check the new web host certificates of a whole fleet on the controller, in one task run
version_added: 0.1.0
description:
- Runs on the controller only (an action plugin). It connects to no host and executes no module. Run it once
  (C(run_once=true)) for the play, as the C(apexone.certificates.preflight) playbook does.
- For each host it reads that host's C(apexone_cert_*) variables, with the defaults of the
  C(apexone.certificates.webhost_certificate) role, the same variables its C(preflight) entry point reads
  (C(apexone_cert_hostname), C(apexone_cert_pfx_path) or C(apexone_cert_pfx_base64_path) with
  C(apexone_cert_pfx_password) and C(apexone_cert_pfx_encoding), or C(apexone_cert_cert_path) with
  C(apexone_cert_key_path) and C(apexone_cert_key_password); C(apexone_cert_ca_bundle_path),
  C(apexone_cert_min_days)).
- Each file is read once; each PFX is opened once, without RSA key validation (the key is never used to sign on
  the controller, and that it belongs to the certificate is proven by comparing public keys), which is most of
  the cost of reading a PFX. The checks and problem codes are those of
  P(apexone.certificates.webhost_cert_check#filter), the same code the role's per-host check runs.
- With many hosts the checks run in a pool of processes, one per core (O(processes)).
- A certificate that cannot be read is that host's verdict (problem code C(unreadable), with the reason), never a
  task failure. The task fails only when a library the checks need is missing on the controller.
options:
  hosts:
    description: Inventory host names to check. Default is every host of the play (C(ansible_play_hosts)).
    type: list
    elements: str
  now:
    description: Validation time, ISO 8601 (for example C(2027-01-01T00:00:00Z)). Default is the current time.
    type: str
  processes:
    description:
      - How many processes check the certificates. C(0) (the default) uses every core when there are enough
        hosts for a pool to pay (64 or more), else one.
    type: int
    default: 0
  summary_path:
    description:
      - Also write the JSON summary (C(kind), C(version), C(hosts), C(failed)) to this file on the controller.
    type: path
requirements:
  - cryptography >= 45 and asn1crypto on the controller (pip install -r the collection's requirements.txt)
author: apexone.certificates maintainers (@apexone-certificates)
notes:
  - Check mode is supported, the task only reads.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Check the certificates of every host of the play in one call
  apexone.certificates.webhost_preflight:
    summary_path: "{{ playbook_dir }}/apexone-preflight.json"
  register: fleet
  run_once: true
  delegate_to: localhost

- name: Stop the hosts whose certificate is refused
  ansible.builtin.fail:
    msg: "{{ fleet.verdicts[inventory_hostname].problems | map(attribute='message') | join('; ') }}"
  when: inventory_hostname in fleet.failed_hosts
'''

RETURN = r'''
verdicts:
  description:
    - One verdict per host, keyed by inventory host name, as P(apexone.certificates.webhost_cert_check#filter)
      returns it (C(ok), C(problems), C(thumbprint), C(subject_cn), C(not_after), C(days_left), C(hostname)).
    - A host whose certificate could not be read has one problem, code C(unreadable), saying why.
  returned: always
  type: dict
failed_hosts:
  description: The hosts whose verdict has an error, in play order.
  returned: always
  type: list
  elements: str
summary:
  description: Counts of C(hosts), C(ok), C(failed) and C(warnings) (hosts with a warning).
  returned: always
  type: dict
processes:
  description: How many processes did the checks.
  returned: always
  type: int
seconds:
  description: Wall time of the checks, reading the files included.
  returned: always
  type: float
'''

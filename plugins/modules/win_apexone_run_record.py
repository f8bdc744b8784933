#!/usr/bin/python

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_apexone_run_record
short_description: Keep the run record of a certificate replacement on the Apex One server
version_added: 0.1.0
description:
  - Writes the run record (what a replacement changed, for a rollback) as JSON text to the REG_SZ value C(LastRun)
    of C(HKLM\SOFTWARE\apexone.certificates) (64-bit registry view), or removes it.
  - The key gets a protected access control list (nothing inherited) that grants Full Control to SYSTEM
    (C(S-1-5-18)) and BUILTIN\Administrators (C(S-1-5-32-544)) only, also when the key already existed with other
    entries; only the server's administrators can write or replace the record.
  - M(apexone.certificates.win_server_info) returns the record (C(run_record)) and who can write the key
    (C(run_record_protection)); P(apexone.certificates.run_record#filter) validates both on the controller before
    a rollback uses them.
  - The record holds thumbprints, file paths, names and states; never a key, a password or a PFX.
options:
  record:
    description:
      - The record, a dict (converted to JSON) or JSON text of an object, at most 262144 characters.
      - Required when O(state=present).
    type: json
  state:
    description:
      - V(present) writes the record, V(absent) removes it (the key and its access control list stay).
    type: str
    choices: [ absent, present ]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - apexone.certificates.attributes
notes:
  - The record is compared as text; the same record written twice is not a change, unless the key's access control
    list had to be reset (RV(protection_reset)).
seealso:
  - module: apexone.certificates.win_server_info
  - plugin: apexone.certificates.run_record
    plugin_type: filter
author:
  - apexone.certificates maintainers (@apexone-certificates)
"""

EXAMPLES = r"""
- name: Record the start of a replacement before the first change
  apexone.certificates.win_apexone_run_record:
    record: >-
      {{ apexone_cert_server_info | apexone.certificates.run_record_start(apexone_cert_plan, inventory_hostname,
         now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ')) }}

- name: Forget the last run
  apexone.certificates.win_apexone_run_record:
    state: absent
"""

RETURN = r"""
key:
  description: The registry key that holds the record.
  returned: always
  type: str
  sample: HKLM:\SOFTWARE\apexone.certificates
value_name:
  description: The value that holds the record.
  returned: always
  type: str
  sample: LastRun
protection_reset:
  description: Whether the key's access control list was (or in check mode would be) reset to SYSTEM and
    Administrators only because it allowed someone else to write, was not protected, or had another owner.
  returned: always
  type: bool
  sample: false
"""

"""Least key access (issue #14): who may read the new private key.

Default: nobody beyond SYSTEM and Administrators (the import gives them access). Readers are added only when
named, or, when asked, copied from the old key: only allow entries that granted read, matched by SID, without
the administrative well-known SIDs whatever their (localised) names.
"""

from __future__ import annotations

import pytest

from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, key_readers

POOL = "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"  # an IIS AppPool virtual account


def old_key(*entries):
    return {"private_key": {"acl": list(entries)}}


def entry(identity, sid, rights="Read, Synchronize", kind="allow"):
    return {"identity": identity, "sid": sid, "rights": rights, "type": kind}


OLD = old_key(
    entry("VORDEFINIERT\\Administratoren", "S-1-5-32-544", "FullControl"),  # German names: matched by SID
    entry("NT-AUTORITÄT\\SYSTEM", "S-1-5-18", "FullControl"),
    entry("ERSTELLER-BESITZER", "S-1-3-0", "FullControl"),
    entry("IIS AppPool\\OfficeScan", POOL, "Read, Synchronize"),
    entry("CORP\\svc-backup", "S-1-5-21-1-2-3-1105", "ReadPermissions, Synchronize"),  # no read of the key
    entry("CORP\\svc-monitor", "S-1-5-21-1-2-3-1106", "-2147483648"),                # GENERIC_READ
    entry("CORP\\denied", "S-1-5-21-1-2-3-1107", "FullControl", kind="deny"),
    entry("Administrators", None, "Read"),                                              # no SID: never copied
    entry("CORP\\ops", "S-1-5-21-1-2-3-1108", "Modify, Synchronize"),
)


def test_default_is_nobody_beyond_system_and_administrators():
    assert key_readers({}, [OLD]) == []
    assert key_readers({"key_readers": []}, [OLD]) == []


def test_named_readers_are_kept_as_given():
    assert key_readers({"key_readers": ["IIS AppPool\\OfficeScan"]}, [OLD]) == ["IIS AppPool\\OfficeScan"]


def test_copy_only_when_asked_and_only_entries_that_granted_read():
    readers = key_readers({"copy_key_readers": True}, [OLD, None])
    assert readers == [POOL, "S-1-5-21-1-2-3-1106", "S-1-5-21-1-2-3-1108"]


def test_copy_adds_to_named_readers_without_duplicates():
    readers = key_readers({"key_readers": [POOL], "copy_key_readers": True}, [OLD, OLD])
    assert readers == [POOL, "S-1-5-21-1-2-3-1106", "S-1-5-21-1-2-3-1108"]


@pytest.mark.parametrize("value", ["true", 1, "yes", None])
def test_copy_key_readers_must_be_a_boolean(value):
    with pytest.raises(PlanError, match="copy_key_readers must be true or false"):
        key_readers({"copy_key_readers": value}, [OLD])


def test_an_administrator_named_in_english_but_with_another_sid_is_copied():
    """Names are not trusted: 'BUILTIN\\Administrators' with a domain SID is a reader like any other."""
    fake = old_key(entry("BUILTIN\\Administrators", "S-1-5-21-9-9-9-500", "Read"))
    assert key_readers({"copy_key_readers": True}, [fake]) == ["S-1-5-21-9-9-9-500"]

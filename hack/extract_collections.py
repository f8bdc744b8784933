"""Extract a few collections from the PyPI ``ansible`` wheel into a collections path.

Galaxy is not always reachable (CI, air-gapped controllers); the ``ansible`` package on PyPI
carries the same collection releases. Usage: extract_collections.py WHEEL_DIR DEST NS.NAME...
"""

import glob
import sys
import zipfile


def main(wheel_dir: str, dest: str, names: list[str]) -> int:
    wheels = sorted(glob.glob(f"{wheel_dir}/ansible-*.whl"))
    if not wheels:
        print(f"no ansible wheel found in {wheel_dir}", file=sys.stderr)
        return 1
    prefixes = [f"ansible_collections/{n.replace('.', '/')}/" for n in names]
    found = set()
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for member in wheel.namelist():
            for prefix in prefixes:
                if member.startswith(prefix):
                    wheel.extract(member, dest)
                    found.add(prefix)
    missing = [p for p in prefixes if p not in found]
    if missing:
        print(f"collections missing from {wheels[-1]}: {missing}", file=sys.stderr)
        return 1
    print(f"extracted {', '.join(names)} from {wheels[-1].rsplit('/', 1)[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))

"""Local TLS servers for the audit demo and the tls_probe tests (Python ssl, threads, 127.0.0.1 only).

Two ways to run it; both stop by themselves after --lifetime seconds at the latest:

  serve_lab.py --lab LAB [--lifetime 100] -- COMMAND...
      Serve each lab host's certificate on its own local port (a few hosts get a demo twist, see DEMO), write
      LAB/audit-inventory.yml (the lab inventory plus apexone_cert_audit_endpoints per host, WinRM off), run
      COMMAND (for example ansible-playbook playbooks/audit.yml), stop the servers, exit with COMMAND's code.

  serve_lab.py --spec SPEC.json [--lifetime 60]
      Start the servers described in SPEC (a list of {"name", "kind", ...}), print one JSON line
      {"name": port, ...} on stdout, and serve until stdin is closed or the lifetime ends. The test fixtures use it.

Kinds: "tls" (cert, key: PEM files, the cert file holding leaf then chain; optional tls_max / tls_min such as
"TLSv1"), "silent" (accepts connections and never answers), "http" (answers any request with plain HTTP 400),
"closed" (a port nothing listens on).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

HOST = "127.0.0.1"
HANDSHAKE_TIMEOUT = 5.0
HTTP_400 = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
    b"Connection: close\r\n\r\nBad Request\n"
)


def _listener(backlog: int = 1024) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(backlog)
    sock.settimeout(0.2)
    return sock


class _Server:
    """Accept loop in a thread; subclasses handle each connection."""

    kind = "base"

    def __init__(self):
        self.sock = _listener()
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=f"lab-{self.kind}-{self.port}", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.accepted(conn)

    def accepted(self, conn: socket.socket) -> None:
        worker = threading.Thread(target=self._guarded, args=(conn,), daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(worker)
        worker.start()

    def _guarded(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def handle(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        with self._lock:
            threads = list(self._threads)
        for worker in threads:
            worker.join(HANDSHAKE_TIMEOUT + 1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def server_context(cert: str, key: str, tls_min: str | None = None, tls_max: str | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")  # the lab has RSA 1024 and SHA-1 certificates on purpose
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if tls_min:
            context.minimum_version = ssl.TLSVersion[tls_min.replace(".", "_")]
        if tls_max:
            context.maximum_version = ssl.TLSVersion[tls_max.replace(".", "_")]
    context.load_cert_chain(cert, key)
    return context


class TlsServer(_Server):
    """Serves the certificate chain in ``cert`` (leaf first) with ``key``; completes the handshake, then waits."""

    kind = "tls"

    def __init__(self, cert: str, key: str, tls_min: str | None = None, tls_max: str | None = None):
        self.context = server_context(cert, key, tls_min, tls_max)
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            tls.settimeout(1.0)
            tls.recv(1)  # until the client closes
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()


class SilentServer(_Server):
    """Accepts every connection and never sends a byte (a hung service)."""

    kind = "silent"

    def __init__(self):
        super().__init__()
        self.held: list[socket.socket] = []

    def accepted(self, conn: socket.socket) -> None:
        self.held.append(conn)

    def stop(self):
        super().stop()
        for conn in self.held:
            conn.close()
        self.held.clear()


class HttpServer(_Server):
    """A plain HTTP port: whatever arrives, it answers 400 and closes (as IIS and nginx do)."""

    kind = "http"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        try:
            conn.recv(4096)
            conn.sendall(HTTP_400)
        except OSError:
            pass


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def start(spec: list[dict]) -> tuple[dict[str, int], list[_Server]]:
    ports: dict[str, int] = {}
    servers: list[_Server] = []
    for entry in spec:
        kind = entry["kind"]
        if kind == "closed":
            ports[entry["name"]] = closed_port()
            continue
        if kind == "tls":
            server = TlsServer(entry["cert"], entry["key"], entry.get("tls_min"), entry.get("tls_max"))
        elif kind == "silent":
            server = SilentServer()
        elif kind == "http":
            server = HttpServer()
        else:
            raise ValueError(f"unknown server kind {kind!r}")
        servers.append(server.start())
        ports[entry["name"]] = server.port
    return ports, servers


def stop(servers: list[_Server]) -> None:
    for server in servers:
        server.stop()


# ---------------------------------------------------------------------------------------------------------
# The audit demo

# What the demo serves for some lab hosts (the others serve their lab certificate with its chain), and two hosts
# the demo adds to the audit inventory, so that the report shows every status.
DEMO = {
    "apex-good02": ("tls1.0", "serves its certificate over TLS 1.0 only (legacy protocol)"),
}
DEMO_EXTRA_HOSTS = {
    "apex-pending": ("factory", "still serves the self-signed certificate Apex One installed: replacement pending"),
    "apex-offline": ("closed", "server down: nothing answers on its HTTPS port"),
}


def tls10_supported() -> bool:
    """Whether this machine's OpenSSL still completes a TLS 1.0 handshake at security level 0."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tempfile

    import pki

    key, cert = pki.make_cert("tls10.lab.example", issuer=None, key=pki.rsa_key(2048, slot=301))
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = os.path.join(folder, "c.pem"), os.path.join(folder, "k.pem")
        with open(cert_path, "w") as handle:
            handle.write(pki.pem(cert))
        with open(key_path, "w") as handle:
            handle.write(pki.key_pem(key))
        try:
            server = TlsServer(cert_path, key_path, tls_min="TLSv1", tls_max="TLSv1")
        except (ssl.SSLError, ValueError):
            return False
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    try:
        client.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client.minimum_version = ssl.TLSVersion.TLSv1
            client.maximum_version = ssl.TLSVersion.TLSv1
    except (ssl.SSLError, ValueError):
        return False
    with server:
        try:
            with socket.create_connection((HOST, server.port), timeout=5) as raw:
                with client.wrap_socket(raw) as tls:
                    return tls.version() == "TLSv1"
        except (ssl.SSLError, OSError):
            return False


def _factory_certificate(lab: str, host: str, fqdn: str) -> tuple[str, str]:
    """A self-signed certificate like the one Apex One installs, written next to the lab certificates."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pki

    key, cert = pki.make_cert(fqdn, issuer=None, key=pki.rsa_key(2048, slot=300), not_after=pki.NOW + 50 * pki.DAY)
    cert_path = os.path.join(lab, "certs", f"{host}.factory.crt.pem")
    key_path = os.path.join(lab, "certs", f"{host}.factory.key.pem")
    with open(cert_path, "w") as handle:
        handle.write(pki.pem(cert))
    with open(key_path, "w") as handle:
        handle.write(pki.key_pem(key))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


def _new_certificate_thumbprint(fqdn: str) -> str:
    """Thumbprint of the certificate a pending host should get (issued by a throwaway CA: only the value matters)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pki
    from cryptography.hazmat.primitives import hashes

    _key, cert = pki.make_cert(fqdn, issuer=pki.make_ca("Demo Issuing CA"))
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def demo_spec(lab: str, inventory: dict) -> tuple[list[dict], dict[str, str]]:
    """The servers of the demo; adds DEMO_EXTRA_HOSTS to ``inventory`` (in memory)."""
    group = inventory["all"]["children"]["apexone_servers"]
    domain = next(iter(group["hosts"].values()))["apexone_cert_hostname"].split(".", 1)[1]
    for host, (_twist, note) in DEMO_EXTRA_HOSTS.items():
        group["hosts"][host] = {"apexone_cert_hostname": f"{host}.{domain}", "lab_description": note}
    legacy_ok = tls10_supported()
    spec = []
    notes = {}
    for host, hostvars in group["hosts"].items():
        twist, note = DEMO.get(host) or DEMO_EXTRA_HOSTS.get(host) or (None, None)
        lab_cert = {
            "name": host,
            "kind": "tls",
            "cert": os.path.join(lab, "certs", f"{host}.crt.pem"),
            "key": os.path.join(lab, "certs", f"{host}.key.pem"),
        }
        if twist == "closed":
            spec.append({"name": host, "kind": "closed"})
        elif twist == "factory":
            cert, key = _factory_certificate(lab, host, hostvars["apexone_cert_hostname"])
            spec.append({"name": host, "kind": "tls", "cert": cert, "key": key})
            hostvars["apexone_cert_expected_thumbprint"] = _new_certificate_thumbprint(hostvars["apexone_cert_hostname"])
        elif twist == "tls1.0" and legacy_ok:
            spec.append({**lab_cert, "tls_min": "TLSv1", "tls_max": "TLSv1"})
        else:
            if twist == "tls1.0":
                note = "serves its lab certificate (this OpenSSL cannot serve TLS 1.0 for the legacy demo)"
            spec.append(lab_cert)
        notes[host] = note or hostvars.get("lab_description", "")
    return spec, notes


def write_audit_inventory(lab: str, inventory: dict, ports: dict[str, int], path: str) -> None:
    group = inventory["all"]["children"]["apexone_servers"]
    for host, hostvars in group["hosts"].items():
        hostvars["apexone_cert_audit_endpoints"] = [{"host": HOST, "port": ports[host]}]
    group["vars"]["apexone_cert_audit_winrm"] = False  # the lab has no Windows hosts
    group["vars"]["ansible_python_interpreter"] = sys.executable
    with open(path, "w") as handle:
        handle.write(json.dumps(inventory, indent=2) + "\n")


def run_demo(lab: str, lifetime: float, inventory_out: str, command: list[str]) -> int:
    with open(os.path.join(lab, "inventory.yml")) as handle:
        inventory = json.load(handle)
    spec, notes = demo_spec(lab, inventory)
    ports, servers = start(spec)
    timer = threading.Timer(lifetime, lambda: stop(servers))
    timer.daemon = True
    timer.start()
    try:
        write_audit_inventory(lab, inventory, ports, inventory_out)
        print(f"lab TLS servers on {HOST} (stop after {lifetime:g} s at the latest):")
        for host in sorted(ports):
            print(f"  {host:<22} {HOST}:{ports[host]:<6} {notes.get(host, '')}")
        print(f"audit inventory: {inventory_out}")
        sys.stdout.flush()
        if not command:
            return 0
        try:
            return subprocess.run(command, timeout=lifetime, check=False).returncode
        except subprocess.TimeoutExpired:
            print(f"serve_lab: the command ran longer than {lifetime:g} s; stopped", file=sys.stderr)
            return 124
    finally:
        timer.cancel()
        stop(servers)


def serve_spec(spec_path: str, lifetime: float) -> int:
    with open(spec_path) as handle:
        spec = json.load(handle)
    ports, servers = start(spec)
    print(json.dumps(ports), flush=True)
    done = threading.Event()

    def wait_stdin():
        try:
            sys.stdin.read()
        finally:
            done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    deadline = time.monotonic() + lifetime
    while not done.is_set() and time.monotonic() < deadline:
        done.wait(0.2)
    stop(servers)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", help="lab folder written by make_lab.py (demo mode)")
    parser.add_argument("--spec", help="JSON list of servers to start (test mode)")
    parser.add_argument("--inventory", help="where to write the audit inventory (default LAB/audit-inventory.yml)")
    parser.add_argument("--lifetime", type=float, default=100.0, help="stop after this many seconds at the latest")
    args = parser.parse_args(argv)
    if bool(args.lab) == bool(args.spec):
        parser.error("give either --lab or --spec")
    if args.spec:
        return serve_spec(args.spec, args.lifetime)
    lab = os.path.abspath(args.lab)
    return run_demo(lab, args.lifetime, args.inventory or os.path.join(lab, "audit-inventory.yml"), command)


if __name__ == "__main__":
    sys.exit(main())

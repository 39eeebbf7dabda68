"""Interoperability with the official Python SDK (databricks-zerobus-ingest-sdk).

    interop_test.py ZEROBUS_CLI WORK_DIR

Starts `zerobus serve` with declared tables and OAuth on, then has the official client ingest
JSON and proto records through the client-credentials flow, twice: over TLS with the server's
self-signed certificate (trusted through SSL_CERT_FILE), and over plaintext on loopback. Checks
every row in the server's SQLite database. Prints what failed and exits non-zero on any failure.
"""
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import zerobus_serve  # noqa: E402  (found through the line above)

CLIENT_ID = "interop-client"
SECRET = "interop-secret"
TABLES = {
    "json": "main.interop.events_json",
    "proto": "main.interop.events_proto",
}
COUNT = 101
DDL = "{} (id BIGINT NOT NULL, device STRING, temp DOUBLE, tags ARRAY<STRING>)"


def start_server(cli, data_dir, tls):
    args = ["--listen", "127.0.0.1:0", "--data-dir", data_dir, "--auth", f"{CLIENT_ID}:{SECRET}"]
    for table in TABLES.values():
        args += ["--table", DDL.format(table)]
    if tls:
        args.append("--tls")
    try:
        server = zerobus_serve.start(cli, *args)
    except zerobus_serve.ServeError as error:
        raise SystemExit(f"interop: FAILED: {error}")
    urls = {"grpc": server.grpc_url, "workspace": server.ready["http"]["url"]}
    if tls:
        # The certificate names localhost; the SDK checks the name it dials.
        urls = {k: v.replace("127.0.0.1", "localhost") for k, v in urls.items()}
    return server, urls


def ingest(urls, kind, env):
    result = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "ingest.py"), urls["grpc"],
         urls["workspace"], TABLES[kind], kind, str(COUNT), CLIENT_ID, SECRET],
        env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        return f"{kind} ingest failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return None


def check_rows(data_dir, kind):
    db = sqlite3.connect(os.path.join(data_dir, "zerobus.db"))
    rows = db.execute(
        f'SELECT id, device, temp, tags FROM "{TABLES[kind]}" ORDER BY id').fetchall()
    db.close()
    expected = [(i, f"{kind}-{i % 3}", i / 2, f'["a","{i}"]') for i in range(COUNT)]
    if rows != expected:
        missing = sorted(set(expected) - set(rows))[:5]
        unexpected = sorted(set(rows) - set(expected))[:5]
        return (f"{kind}: {len(rows)} rows in SQLite, expected {COUNT}; missing {missing}, "
                f"unexpected {unexpected}")
    return None


CHECKS_PER_MODE = len(TABLES) + 2  # each table, the wrong secret, a clean exit


def run(cli, work_dir, tls):
    mode = "TLS" if tls else "plaintext"
    data_dir = os.path.join(work_dir, "tls" if tls else "plaintext")
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir)
    server, urls = start_server(cli, data_dir, tls)
    env = dict(os.environ)
    if tls:
        env["SSL_CERT_FILE"] = os.path.join(data_dir, "ca.pem")
    failures = []
    try:
        for kind in TABLES:
            error = ingest(urls, kind, env) or check_rows(data_dir, kind)
            if error:
                failures.append(f"[{mode}] {error}")
            else:
                print(f"interop: {mode}: {COUNT} {kind} records from the official SDK are in SQLite")
        # A wrong secret must be refused by the token endpoint, and the SDK must say so.
        bad = subprocess.run(
            [sys.executable, os.path.join(os.path.dirname(__file__), "ingest.py"), urls["grpc"],
             urls["workspace"], TABLES["json"], "json", "1", CLIENT_ID, "wrong"],
            env=env, capture_output=True, text=True, timeout=120)
        if bad.returncode == 0:
            failures.append(f"[{mode}] a wrong client secret was accepted")
        else:
            print(f"interop: {mode}: a wrong client secret is refused")
    finally:
        status = server.stop()
    if status != 0:
        failures.append(f"[{mode}] zerobus serve exited with status {status} on SIGTERM")
    return failures


def main():
    cli, work_dir = sys.argv[1:3]
    failures = run(cli, work_dir, tls=True) + run(cli, work_dir, tls=False)
    for failure in failures:
        print(f"interop: FAILED {failure}", file=sys.stderr)
    checks = 2 * CHECKS_PER_MODE
    print(f"interop: {checks - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Redis's own test suite (the TCL tests in redis 8.0.2's source), run against tenantkv as an
external server, the way Redis runs it against a server it did not start
(`./runtest --host H --port P`).

Why 8.0.2: tenantkv answers as Redis 7.2, and the Debian archive (which this fetches from; no
GitHub is needed) has the sources of 7.0.15 and 8.0.2 only. 7.0's tests predate 7.2's encodings
(listpack sets and lists) and number formatting, so nearly all they find are version
differences. 8.0's tests hold what 7.2 does, plus 7.4 and 8.0 additions, which are listed
below as such.

What runs: the units of the command families tenantkv has. Tags a server started by
someone else cannot honour (DEBUG, replication, saving, ...) are left out as Redis's own
external mode does. Tests that call a command tenantkv does not have are skipped, not
failed: an unknown command raises a TCL exception that ends its whole unit. Tests that
fail for a known reason are listed in EXPECTED. Anything else fails the run, and an
expected failure that now passes is reported so its entry can go.

Needs tclsh 8.6 and the Debian archive. Not part of `cargo test`: it downloads, and it takes
a few minutes.

    tests/external/redis_suite.py [--binary target/release/tenantkv] [--units type/list,multi]
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Server, sh  # noqa: E402

SOURCE = "http://deb.debian.org/debian/pool/main/r/redis/redis_8.0.2.orig.tar.gz"
SHA256 = "caf3c0069f06fc84c5153bd2a348b204c578de80490c73857bee01d9b5d7401f"
WORK = os.environ.get("TENANTKV_EXTERNAL_DIR", "/tmp/tenantkv-external")
PORT = 6397

UNITS = [
    "type/list", "type/list-2", "type/list-3", "type/hash", "type/set", "type/zset",
    "type/incr", "type/string", "multi", "pubsub", "pubsubshard", "keyspace", "scan", "expire",
    "info-command", "introspection", "introspection-2", "protocol", "querybuf", "quit",
    "dump", "lazyfree",
]

# Tags whose tests need what an external server does not offer them.
SKIP_TAGS = {
    "needs:debug": "DEBUG is not implemented (a server-wide debugging command)",
    "needs:repl": "replication is not implemented",
    "needs:save": "persistence is not implemented",
    "needs:config-maxmemory": "the tests set a server-wide maxmemory that tenants' quotas replace",
    "needs:pfdebug": "HyperLogLog is not implemented",
    "needs:latency": "LATENCY is not implemented",
    "needs:local-process": "the tests read the server's own process",
}

LATER = "not implemented in tenantkv yet"
NEWER = "a Redis 7.4/8.0 addition; tenantkv answers as 7.2"

# Skipped tests: each calls a command tenantkv lacks (which would end its unit), with why.
# Patterns are Redis's: a test's exact name, or a TCL regexp after '/'.
SKIP = [
    ("/^(HGETDEL|HGETEX|HSETEX)", "HGETDEL/HGETEX/HSETEX: " + NEWER),
    ("/(?i)stream|XGROUP|XADD|XREAD", "streams: " + LATER),
    ("/GEOADD|GEO ", "geo commands: " + LATER),
    ("/MONITOR", "MONITOR: " + LATER),
    ("/SORT", "SORT: " + LATER),
    ("/SWAPDB", "SWAPDB: " + LATER),
    ("/SETBIT|GETBIT|BITCOUNT|BITPOS|BITFIELD|BITOP", "bitmaps: " + LATER),
    ("/(?i)script|EVAL|FUNCTION", "Lua scripting: " + LATER),
    ("/^query buffer resized correctly( with fat argv)?$", "uses DEBUG PAUSE-CRON: " + LATER),
    ("BLPOP/BLMOVE should increase dirty", "reads rdb_changes_since_last_save: persistence is " + LATER),
    ("MIGRATE cached connections are released after some time", "MIGRATE: " + LATER),
    ("COMMAND GETKEYSANDFLAGS", "asks for SORT's keys: SORT is " + LATER),
    ("Blocking commands ignores the timeout", "uses XREAD: streams are " + LATER),
    ("command stats for MULTI", "uses GEOADD: geo commands are " + LATER),
]

# Tests that fail for a known reason: name (exact, or a Python regexp after '/'), why.
EXPECTED = [
    ("Hash commands against wrong type", "calls HGETDEL: " + NEWER),
    ("CLIENT command unhappy path coverage",
     "expects CLIENT CACHING's arity error: CLIENT TRACKING/CACHING are " + LATER),
    ("MOVE basic usage", "counts on the FLUSHDB at the end of a skipped stream test"),
    ("MULTI with SAVE", "SAVE: persistence is " + LATER),
    ("COMMAND LIST FILTERBY ACLCAT - list all commands/subcommands",
     "looks for EVAL among @scripting: Lua scripting is " + LATER),
    ("COMMAND LIST FILTERBY PATTERN - list all commands/subcommands",
     "looks for CONFIG REWRITE: " + LATER),
    ("/^(MIGRATE|GEORADIUS) command is marked with movablekeys$",
     "COMMAND INFO of a command tenantkv does not have (MIGRATE, geo commands) is nil"),
    ("/^FLUSHALL SYNC optimized to run in bg|^Run consecutive blocking FLUSHALL ASYNC"
     "|^Client closed in the middle of blocking FLUSHALL ASYNC"
     "|^Pending commands in querybuf processed once unblocking FLUSHALL ASYNC",
     "Redis 8.0 frees every FLUSHALL in the background and counts each key in "
     "lazyfreed_objects; tenantkv frees flushes of up to 10 000 keys inline"),
]

# Edits to the tests themselves, each with why: differences of version, not of behaviour.
PATCHES = [
    ("tests/support/server.tcl", "\n    r function flush\n", "\n    catch {r function flush}\n",
     "the harness empties the server's functions before each unit: FUNCTION is " + LATER),
    ("tests/support/server.tcl", "\n    r script flush\n", "\n    catch {r script flush}\n",
     "and its scripts: SCRIPT is " + LATER),
    ("tests/unit/introspection.tcl", "            client-default-resp\n",
     "            client-default-resp\n            io-threads-do-reads\n",
     "CONFIG sanity skips immutable parameters; io-threads-do-reads is one in 7.2, and gone "
     "from 8.0, so 8.0's list lacks it"),
]


def fetch():
    dest = os.path.join(WORK, "redis-8.0.2")
    if os.path.isdir(dest):
        return dest
    os.makedirs(WORK, exist_ok=True)
    tgz = os.path.join(WORK, "redis_8.0.2.orig.tar.gz")
    if not os.path.exists(tgz):
        urllib.request.urlretrieve(SOURCE, tgz)
    with open(tgz, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{tgz}: sha256 {digest}, expected {SHA256}")
    with tarfile.open(tgz) as t:
        t.extractall(WORK)
    patch_harness(dest)
    return dest


def patch_harness(src):
    for path, old, new, _why in PATCHES:
        path = os.path.join(src, path)
        text = open(path).read()
        assert text.count(old) == 1, f"{path} changed shape around {old!r}"
        open(path, "w").write(text.replace(old, new))


def matches(name, pattern):
    if pattern.startswith("/"):
        return re.search(pattern[1:], name) is not None
    return name == pattern


def why_expected(name):
    return next((why for pat, why in EXPECTED if matches(name, pat)), None)


def run_unit(src, unit):
    """Runs one unit; returns (passed, failed names, exceptions)."""
    args = ["tclsh8.6", "tests/test_helper.tcl", "--host", "127.0.0.1", "--port", str(PORT),
            "--single", f"unit/{unit}", "--tags", " ".join(f"-{t}" for t in SKIP_TAGS),
            "--timeout", "600"]
    for pat, _ in SKIP:
        args += ["--skiptest", pat]
    out = subprocess.run(args, cwd=src, capture_output=True, text=True, errors="replace")
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    passed = len(re.findall(r"^\[ok\]: ", text, re.M))
    failed = re.findall(r"^\[err\]: (.*) in tests/unit/", text, re.M)
    exceptions = []
    for m in re.finditer(r"^\[exception\]: (.*)$", text, re.M):
        # The test that raised it is the first `test` the TCL traceback passes through.
        test = re.search(r'^"test [{"](.*?)[}"] ', text[m.end():], re.M)
        exceptions.append(f"{test.group(1) if test else '?'}: {m.group(1)}")
    if out.returncode != 0 and not failed and not exceptions:
        exceptions = [f"runtest exited {out.returncode}: " + text[-1500:]]
    return passed, failed, exceptions, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/tenantkv")
    ap.add_argument("--units", help="comma-separated units (default: all of UNITS)")
    ap.add_argument("--log-dir", help="keep each unit's output here")
    opts = ap.parse_args()
    binary = os.path.abspath(opts.binary)
    if not os.path.exists(binary):
        sh("cargo", "build", "--release")
    src = fetch()
    units = opts.units.split(",") if opts.units else UNITS
    unexpected, known, broken, total = [], [], [], 0
    for unit in units:
        # A fresh server per unit: what one unit leaves behind (configs, clients) cannot
        # decide another's result.
        srv = Server(binary, PORT)
        try:
            passed, failed, exceptions, text = run_unit(src, unit)
        finally:
            srv.stop()
        if opts.log_dir:
            os.makedirs(opts.log_dir, exist_ok=True)
            with open(os.path.join(opts.log_dir, unit.replace("/", "_") + ".log"), "w") as f:
                f.write(text)
        total += passed
        print(f"{unit}: {passed} passed, {len(failed)} failed"
              + (f", {len(exceptions)} EXCEPTION" if exceptions else ""), flush=True)
        for name in failed:
            (known if why_expected(name) else unexpected).append((unit, name))
        broken += [(unit, e) for e in exceptions]
    print(f"\n{total} passed, {len(known)} expected failures:")
    for unit, name in known:
        print(f"  {unit}: {name}: {why_expected(name)}")
    seen = {name for _, name in known}
    stale = [pat for pat, _ in EXPECTED
             if not any(matches(n, pat) for n in seen)]
    if stale and not opts.units:
        print("\nexpected failures that did not fail (remove them):")
        for pat in stale:
            print(f"  {pat}")
    if unexpected or broken:
        print(f"\n{len(unexpected)} UNEXPECTED failures:")
        for unit, name in unexpected:
            print(f"  {unit}: {name}")
        for unit, e in broken:
            print(f"  {unit}: exception (ends the unit): {e}")
        sys.exit(1)
    print("\nno unexpected failures")


if __name__ == "__main__":
    main()

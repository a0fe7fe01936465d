#!/usr/bin/env python3
"""The one task runner of hdh, for people and for CI. Standard library only, so it
runs on a fresh machine that has nothing but Python 3.11 and pip.

    python3 dev.py demo     install, then run the whole platform with demo data
    python3 dev.py test     install, then lint, type-check and run the full suite
                            (SQLite, then PostgreSQL)
    python3 dev.py lint     ruff, formatting, mypy and import contracts only
    python3 dev.py format   apply ruff's formatting and safe fixes
    python3 dev.py bench    run every benchmark in benchmarks/ (figures go to
                            docs/benchmarks.md)
    python3 dev.py lock     resolve the dependencies again and write the hash-pinned
                            locks requirements/base.lock and requirements/test.lock

Installs follow the lock (exact versions, every file checked against its SHA-256)
on the platform it was made for (written in its header); elsewhere they resolve
the versions pyproject.toml allows and say so.

Environment:
    HDH_TEST_POSTGRES_URL   server for the PostgreSQL run
                            (default postgres://postgres@127.0.0.1:5432/postgres)
    CI=true                 PostgreSQL, Chromium and bubblewrap are then required,
                            not optional
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("HDH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CHROMIUM = Path("/usr/bin/chromium")


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    command = [str(a) for a in args]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
    if check and result.returncode != 0:
        print(f"\n✗ failed ({result.returncode}): {' '.join(command)}", file=sys.stderr)
        sys.exit(result.returncode)
    return result.returncode


LOCKS = ROOT / "requirements"


def lock_file(extras: str) -> Path:
    return LOCKS / ("test.lock" if extras == "[test]" else "base.lock")


def this_platform() -> str:
    return f"{sys.platform} {platform.machine()} cp{sys.version_info.major}{sys.version_info.minor}"


def lock_platform(lock: Path) -> str | None:
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith("# platform: "):
            return line.removeprefix("# platform: ").strip()
    return None


def install(extras: str = "") -> None:
    if not PY.exists():
        say("creating the virtual environment .venv")
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / f".installed{extras}"
    lock = lock_file(extras)
    sources = [ROOT / "pyproject.toml", *([lock] if lock.exists() else [])]
    newest = max(source.stat().st_mtime for source in sources)
    if stamp.exists() and stamp.stat().st_mtime >= newest:
        return
    say(f"installing hdh{extras} and its dependencies")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    if lock.exists() and lock_platform(lock) == this_platform():
        # Exactly the locked files, each checked against its hash, then hdh itself.
        say(f"from {lock.relative_to(ROOT)} (hash-checked)")
        run(PY, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "-r", lock)
        run(PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", f".{extras}")
        run(PY, "-m", "pip", "check")
    else:
        print(f"! no lock for {this_platform()}: installing the versions pyproject.toml allows")
        run(PY, "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    stamp.touch()


def lock() -> None:
    """Resolve again (newest versions pyproject.toml allows) and write both locks; the
    platform's lock holds the versions of the tests' lock, so the tested ones run."""
    install("[test]")
    LOCKS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hdh-lock-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("", encoding="utf-8")
        for extras in ("[test]", ""):
            report = Path(tmp) / f"report{extras}.json"
            run(
                PY, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                "--report", report, "-c", constraints, f".{extras}",
            )  # fmt: skip
            items = json.loads(report.read_text(encoding="utf-8"))["install"]
            pins = []
            for item in sorted(items, key=lambda i: i["metadata"]["name"].lower()):
                name, version = item["metadata"]["name"], item["metadata"]["version"]
                if name == "hdh":
                    continue
                digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
                pins.append(f"{name}=={version} --hash=sha256:{digest}")
            target = lock_file(extras)
            header = [
                f"# hdh{extras}: every distribution, pinned with the SHA-256 of its file.",
                "# Written by `python3 dev.py lock`; installs check every file against it.",
                f"# platform: {this_platform()}",
            ]
            target.write_text("\n".join([*header, *pins]) + "\n", encoding="utf-8")
            say(f"{target.relative_to(ROOT)}: {len(pins)} distributions")
            constraints.write_text(
                "\n".join(pin.split(" ")[0] for pin in pins) + "\n", encoding="utf-8"
            )


def demo(args: list[str]) -> None:
    install()
    os.execv(BIN / "hdh", [str(BIN / "hdh"), "demo", *args])  # noqa: S606


def lint() -> None:
    say("ruff (lint)")
    run(BIN / "ruff", "check", "src", "tests", "benchmarks", "dev.py")
    say("ruff (format)")
    run(BIN / "ruff", "format", "--check", "src", "tests", "benchmarks", "dev.py")
    say("mypy (services and engines)")
    run(BIN / "mypy", "src/hdh")
    say("bandit (security lint)")
    run(BIN / "bandit", "-q", "-c", "pyproject.toml", "-r", "src/hdh")
    say("import contracts")
    run(BIN / "lint-imports", "--no-cache")


def ensure_chromium() -> bool:
    if CHROMIUM.exists():
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Debian's Chromium for the browser tests")
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=quiet, check=False)
        run("apt-get", "install", "-y", "-qq", "chromium", env=quiet, check=False)
    if not CHROMIUM.exists() and CI:
        sys.exit("✗ Chromium is required in CI and could not be installed")
    return CHROMIUM.exists()


def ensure_bubblewrap() -> bool:
    """The job sandbox's bubblewrap (Debian ``bubblewrap``), installed when missing."""
    if shutil.which("bwrap"):
        return True
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Debian's bubblewrap for the job sandbox tests")
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=quiet, check=False)
        run("apt-get", "install", "-y", "-qq", "bubblewrap", env=quiet, check=False)
    if not shutil.which("bwrap") and CI:
        sys.exit("✗ bubblewrap is required in CI and could not be installed")
    return shutil.which("bwrap") is not None


def postgres_available() -> bool:
    probe = (
        "import psycopg,sys\n"
        "try:\n"
        f"    psycopg.connect({PG_URL!r}, connect_timeout=3).close()\n"
        "except Exception as e:\n"
        "    print(e); sys.exit(1)\n"
    )
    if run(PY, "-c", probe, check=False) == 0:
        return True
    # The machines that run CI have a local cluster that may need starting.
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").exists():
        for version in os.listdir("/etc/postgresql"):
            run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start", check=False)
        for _ in range(20):
            if run(PY, "-c", probe, check=False) == 0:
                return True
            time.sleep(1)
    return False


def pytest(label: str, env: dict[str, str], extra: list[str]) -> None:
    say(f"test suite on {label}")
    report = Path(tempfile.mkdtemp(prefix="hdh-junit-")) / "report.xml"
    # The slowest tests are listed at the end, to keep the suite's time in view.
    code = run(
        BIN / "pytest", f"--junitxml={report}", "--durations=15", *extra, env=env, check=False
    )
    if code == 5:
        sys.exit(f"✗ no test ran on {label}")
    if code != 0:
        sys.exit(f"✗ test suite failed on {label}")
    text = report.read_text()
    if 'tests="0"' in text:
        sys.exit(f"✗ no test ran on {label}")


def test(extra: list[str]) -> None:
    install("[test]")
    lint()
    browsers = ensure_chromium()
    if not browsers:
        print("! Chromium not found: browser tests will be skipped (CI installs it)")
    if not ensure_bubblewrap():
        print("! bubblewrap not found: job sandbox tests will be skipped (CI installs it)")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    with tempfile.TemporaryDirectory(prefix="hdh-test-") as tmp:
        sqlite_env = {
            **base,
            "HDH_HOME": str(Path(tmp) / "sqlite-home"),
            "HDH_TEST_DATABASE_NAME": str(Path(tmp) / "test.sqlite3"),
        }
        pytest("SQLite", sqlite_env, extra)
        if postgres_available():
            name = f"hdh_test_{uuid.uuid4().hex[:12]}"
            pg_env = {
                **base,
                "HDH_HOME": str(Path(tmp) / "pg-home"),
                "DATABASE_URL": PG_URL,
                "HDH_TEST_DATABASE_NAME": name,
            }
            # Tests that never touch the database ran in the SQLite pass.
            pg_only = ["-m", "not database_independent", "--create-db"]
            pytest(f"PostgreSQL (database {name})", pg_env, [*extra, *pg_only])
        elif CI:
            sys.exit("✗ PostgreSQL is required in CI and is not reachable at " + PG_URL)
        else:
            print("! PostgreSQL not reachable: the PostgreSQL run was skipped")
    say("all checks passed")


def fmt() -> None:
    install("[test]")
    run(BIN / "ruff", "check", "--fix", "src", "tests", "benchmarks", "dev.py")
    run(BIN / "ruff", "format", "src", "tests", "benchmarks", "dev.py")


def bench(extra: list[str]) -> None:
    install("[test]")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDH_", "DATABASE_URL"))}
    databases = ["sqlite"] + (["postgres"] if postgres_available() else [])
    for script in sorted((ROOT / "benchmarks").glob("[!_]*.py")):
        for database in databases:
            say(f"{script.name} on {database}")
            run(PY, script, "--database", database, *extra, env=env)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "demo":
        demo(rest)
    elif command == "test":
        test(rest)
    elif command == "lint":
        install("[test]")
        lint()
    elif command == "format":
        fmt()
    elif command == "bench":
        bench(rest)
    elif command == "lock":
        lock()
    else:
        print(__doc__)


if __name__ == "__main__":
    main()

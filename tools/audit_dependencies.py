"""Known vulnerabilities of the pinned dependencies, for `make audit`.

    python tools/audit_dependencies.py requirements.txt requirements-test.txt

pip-audit reads PyPI's per-release vulnerability data (or OSV). Where it cannot reach them (behind an
intranet mirror, as on our CI machines) it skips every package and still prints "No known vulnerabilities
found". This script does not let that pass as an audit: it runs pip-audit, then checks each package pip-audit
skipped against PyPI's project page, whose `vulnerabilities` are those of the latest release. A pin that is
the latest release is audited there; a pin behind it is listed as not audited, with the version to move to.

Exit status: 1 if any pinned version has a known vulnerability or nothing could be checked at all, else 0.
"""
from __future__ import annotations

import json
import subprocess  # nosec B404 # runs pip-audit, a fixed command
import sys
import tempfile
import urllib.request
from pathlib import Path

PYPI = "https://pypi.org/pypi/{name}/json"


def pip_audit(requirements: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        arguments = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--format", "json",
                     "--output", str(report)]
        for path in requirements:
            arguments += ["--requirement", path]
        # Exit 1 means "vulnerabilities found", read from the report below; anything else is a failure.
        # Its own summary is left out: it says "No known vulnerabilities found" even when it checked nothing.
        completed = subprocess.run(arguments, check=False, capture_output=True, text=True)  # nosec B603 # fixed arguments, no shell
        if completed.returncode not in (0, 1):
            sys.exit(f"pip-audit failed (exit {completed.returncode}):\n{completed.stderr}")
        return json.loads(report.read_text())["dependencies"]


def latest_release(name: str) -> tuple[str, list[dict]] | None:
    try:
        with urllib.request.urlopen(PYPI.format(name=name), timeout=20) as response:  # nosec B310 # https, fixed host
            project = json.load(response)
    except OSError:
        return None
    return project["info"]["version"], project.get("vulnerabilities") or []


def main(requirements: list[str]) -> int:
    vulnerable, audited, behind, unreachable = [], 0, [], []
    for dependency in pip_audit(requirements):
        name, version = dependency["name"], dependency.get("version")
        if not dependency.get("skip_reason"):
            audited += 1
            vulnerable += [(name, version, vuln["id"]) for vuln in dependency.get("vulns", [])]
            continue
        version = version or dependency["skip_reason"].rpartition("(")[2].rstrip(")")
        latest = latest_release(name)
        if latest is None:
            unreachable.append(name)
        elif latest[0] == version:
            audited += 1
            vulnerable += [(name, version, vuln["id"]) for vuln in latest[1]]
        else:
            behind.append(f"{name} {version} (latest {latest[0]})")
    for name, version, vulnerability in vulnerable:
        print(f"VULNERABLE: {name} {version}: {vulnerability}")
    if behind:
        print(f"Not audited, behind the latest release ({len(behind)}): " + ", ".join(behind))
    if unreachable:
        print(f"Not audited, PyPI did not answer ({len(unreachable)}): " + ", ".join(unreachable))
    print(f"{audited} pinned packages audited, {len(vulnerable)} known vulnerabilities.")
    return 1 if vulnerable or not audited else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

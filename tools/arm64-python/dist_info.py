"""Writes xinrt-<version>.dist-info (METADATA, entry_points.txt, RECORD) into a site folder.

Run by tools/arm64-python.sh under the arm64 Python (3.11: tomllib), so the assembled package
carries the same metadata a wheel built from pyproject.toml would: xinrt finds its backends through
importlib.metadata's "xinrt.backends" entry points.

    python dist_info.py pyproject.toml SITE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import tomllib


def main(pyproject: Path, site: Path) -> None:
    project = tomllib.loads(pyproject.read_text())["project"]
    name, version = project["name"], project["version"]
    dist = site / f"{name}-{version}.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    (dist / "METADATA").write_text("\n".join(lines) + "\n")
    groups = {"console_scripts": project.get("scripts", {})}
    groups.update(project.get("entry-points", {}))
    text = ""
    for group, entries in groups.items():
        text += f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
    (dist / "entry_points.txt").write_text(text)
    (dist / "INSTALLER").write_text("tools/arm64-python.sh\n")
    files = [p for p in (site / name).rglob("*") if p.is_file()] + sorted(dist.iterdir())
    record = "".join(f"{p.relative_to(site).as_posix()},,\n" for p in files)
    (dist / "RECORD").write_text(record + f"{dist.name}/RECORD,,\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

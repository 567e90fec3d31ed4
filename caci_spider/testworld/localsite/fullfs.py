"""A full disk for one command: a tiny tmpfs, filled up, mounted where the command writes.

The tmpfs is mounted in a mount namespace of the command's own (``unshare --mount``; for a user
who may not mount, in a user namespace where it may, ``unshare -Urm``): nothing outside the
command sees it, and it goes away with the command, even if the command is killed. Used by the
fault matrix and the tests to show what a run does when the disk fills up under its exports.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# What stands in the full filesystem besides the seeded files: removed before the snapshot.
FILLER = "filler"
SIZE = "256k"
USAGE_EXIT = 90  # the tmpfs could not be mounted


def private_mount() -> list[str]:
    return ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-Urm"]


def run_on_full_disk(
    command: Sequence[str],
    mount_point: Path,
    snapshot: Path,
    seed: Path | None = None,
    *,
    free: str = "0",
    size: str = SIZE,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with a full tmpfs at ``mount_point`` (an existing directory, which the
    tmpfs hides while it runs), holding a copy of ``seed``'s files and ``free`` space left (a
    size for ``truncate``, such as ``96K``: none by default); then copy what the tmpfs holds (but
    the filler) to ``snapshot``. Returns the command's outcome."""
    mount, snap = shlex.quote(str(mount_point)), shlex.quote(str(snapshot))
    copy_seed = f"cp -a {shlex.quote(str(seed))}/. {mount}/" if seed is not None else ":"
    script = f"""
        mount -t tmpfs -o size={shlex.quote(size)} tmpfs {mount} || exit {USAGE_EXIT}
        {copy_seed} || exit {USAGE_EXIT}
        dd if=/dev/zero of={mount}/{FILLER} bs=4k 2>/dev/null
        truncate -s -{shlex.quote(free)} {mount}/{FILLER} || exit {USAGE_EXIT}
        {shlex.join(command)}
        status=$?
        rm -f {mount}/{FILLER}
        mkdir -p {snap} && cp -a {mount}/. {snap}/
        exit $status
    """
    result = subprocess.run(
        [*private_mount(), "sh", "-c", script], cwd=cwd, env=dict(env or os.environ),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if result.returncode == USAGE_EXIT:
        raise RuntimeError(f"could not mount a full tmpfs at {mount_point}: {result.stderr}")
    return result

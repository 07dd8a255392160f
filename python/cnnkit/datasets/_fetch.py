"""Finding a dataset's files on disk, or downloading them once with a checksum check.

Lookup order for a dataset ``<name>`` (the Debian folder name, e.g. "fashion-mnist"):
the ``path=`` argument (the folder holding the files), ``$CNNKIT_DATA/<name>/``,
``~/.cnnkit/datasets/<name>/``, ``/usr/share/datasets/<name>/``. The first folder holding
every file wins. Otherwise the files are downloaded into ``~/.cnnkit/datasets/<name>/`` and
checked against their known sha256; a local file is never checked, so small files in the
same format load.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

SYSTEM_ROOT = Path("/usr/share/datasets")
DATA_ENV = "CNNKIT_DATA"
_CHUNK = 1 << 20


def cache_dir(name: str) -> Path:
    """Where downloads go: ~/.cnnkit/datasets/<name>/ (HOME decides ~)."""
    return Path.home() / ".cnnkit" / "datasets" / name


def search_dirs(name: str, path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders looked in, in order."""
    dirs = []
    if path is not None:
        dirs.append(Path(path).expanduser())
    root = os.environ.get(DATA_ENV)
    if root:
        dirs.append(Path(root).expanduser() / name)
    dirs += [cache_dir(name), SYSTEM_ROOT / name]
    return dirs


def _files_in(folder: Path, required: Sequence[Sequence[str]]) -> list[Path] | None:
    """One existing path per required file (each given as accepted names), or None."""
    found = []
    for names in required:
        match = next((folder / n for n in names if (folder / n).is_file()), None)
        if match is None:
            return None
        found.append(match)
    return found


def locate(
    name: str,
    required: Sequence[Sequence[str]],
    download: Callable[[Path], None],
    path: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """The dataset's files, one per entry of ``required``, downloading them if none are found.

    ``required`` lists, per file, the names it may have (e.g. with and without ".gz").
    ``download(folder)`` fetches them into ``folder``. Offline and not found raises
    FileNotFoundError listing every folder looked in.
    """
    dirs = search_dirs(name, path)
    for folder in dirs:
        found = _files_in(folder, required)
        if found is not None:
            return found
    target = cache_dir(name)
    try:
        download(target)
    except OSError as error:  # URLError, HTTPError, timeouts, a full disk
        wanted = ", ".join(names[0] for names in required)
        looked = "\n".join(f"  {folder}" for folder in dirs)
        raise FileNotFoundError(
            f"Dataset {name!r} not found and its download failed ({error}).\n"
            f"Looked for {wanted} in:\n{looked}\n"
            f"Put the files in one of these folders, set ${DATA_ENV} to a folder holding "
            f"{name}/, or pass path= to load_data."
        ) from error
    found = _files_in(target, required)
    if found is None:
        raise FileNotFoundError(f"Downloading {name!r} into {target} did not produce its files")
    return found


def download_file(url: str, destination: Path, sha256: str) -> Path:
    """Downloads ``url`` to ``destination`` with a progress bar, verifying its sha256.

    The data goes to a ".part" file first and is renamed only once the checksum matches,
    so an interrupted or corrupted download never passes for the real file.
    """
    from tqdm.auto import tqdm  # only downloads need it

    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            length = response.headers.get("Content-Length")
            with tqdm(total=int(length) if length else None, unit="B", unit_scale=True,
                      desc=destination.name) as progress:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
        actual = digest.hexdigest()
        if actual != sha256:
            raise ValueError(
                f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; "
                "the download was discarded"
            )
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination

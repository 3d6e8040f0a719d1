#!/usr/bin/env python3
"""llama-cpp-python built on this CPU, kept in a project-local wheel folder keyed by the CPU's features.

    python scripts/llm_wheel.py key                   # the key: sha256 of CPU flags, build args, version, Python tag
    python scripts/llm_wheel.py dir                   # .cache/wheels/<key>
    python scripts/llm_wheel.py ensure [--python EXE] # install the folder's wheel if the venv has another build;
                                                      #   build one if the folder is empty and llama_cpp is missing
    python scripts/llm_wheel.py rebuild [--python EXE]  # compile from source (no pip cache), replace the folder's
                                                        #   wheel, install it with --force-reinstall

Why: a wheel compiled on one host may use instructions another host's CPU lacks. pip's own
wheel cache is keyed by the source archive, not the CPU, so a cached llama-cpp-python wheel
from an earlier machine was reused on a new one and crashed there at the first completion
(issue 15). Here every build runs with ``--no-cache-dir`` (pip neither reads nor writes its
cache) and its wheel goes to ``.cache/wheels/<key>/`` (git-ignored), where ``<key>`` hashes
the CPU flags from /proc/cpuinfo together with the CMake arguments, the llama-cpp-python
version and the Python tag; a wheel is installed only from the folder of the CPU it was built
on. ``<key>/build.json`` records the CPU model, flags, arguments and build time.

Knobs (environment): ``LLM_CMAKE_ARGS`` (default ``-DGGML_NATIVE=OFF``; the build never
inherits a stray ``CMAKE_ARGS``), ``CMAKE_BUILD_PARALLEL_LEVEL`` (default: all cores).
Progress goes to stderr. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WHEELS = REPO / ".cache" / "wheels"
PACKAGE = "llama-cpp-python"
VERSION = "0.3.36"
DEFAULT_CMAKE_ARGS = "-DGGML_NATIVE=OFF"  # AVX/AVX2/FMA/F16C/BMI2 kernels; no -march=native
# The compiled libraries whose content must match the folder's wheel (paths inside site-packages).
LIBS = ("llama_cpp/lib/libggml-cpu.so", "llama_cpp/lib/libggml-base.so", "llama_cpp/lib/libllama.so")


def log(msg: str) -> None:
    print(f"[llm_wheel] {msg}", file=sys.stderr, flush=True)


def cpu_flags() -> tuple[str, list[str]]:
    """(model name, sorted feature flags) of the first CPU in /proc/cpuinfo."""
    model, flags = platform.processor() or "unknown", []
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, flags
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "model name":
            model = value.strip()
        elif name == "flags":
            return model, sorted(set(value.split()))
    return model, flags


def cmake_args() -> str:
    return os.environ.get("LLM_CMAKE_ARGS", DEFAULT_CMAKE_ARGS).strip()


def python_tag(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def key(python: str, flags: list[str] | None = None) -> str:
    """The folder name for wheels built here (``flags``: another CPU's, for comparison)."""
    flags = cpu_flags()[1] if flags is None else flags
    parts = [" ".join(flags), cmake_args(), f"{PACKAGE}=={VERSION}", python_tag(python), platform.machine()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def folder(python: str) -> Path:
    return WHEELS / key(python)


def wheel_in(d: Path) -> Path | None:
    found = sorted(d.glob(f"llama_cpp_python-{VERSION}-*.whl"))
    return found[-1] if found else None


def pip(python: str, *args: str) -> None:
    cmd = [python, "-m", "pip", *args]
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True)


def site_packages(python: str) -> Path:
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


def _record_hashes(whl: Path) -> dict[str, str]:
    """RECORD's ``sha256=…`` (urlsafe base64) for the compiled libraries in a wheel."""
    with zipfile.ZipFile(whl) as z:
        record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        rows = [ln.split(",") for ln in z.read(record).decode().splitlines() if ln]
    return {r[0]: r[1] for r in rows if len(r) >= 2 and r[0] in LIBS}


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def installed_matches(python: str, whl: Path) -> bool:
    """Whether the venv's llama_cpp libraries are byte for byte the wheel's."""
    site = site_packages(python)
    want = _record_hashes(whl)
    if not want:
        return False
    for rel, h in want.items():
        f = site / rel
        if not f.is_file() or _file_hash(f) != h:
            return False
    return True


def installed_version(python: str) -> str | None:
    """The installed llama-cpp-python version, from its metadata (importing a build for another CPU can crash)."""
    code = f"import importlib.metadata as m; print(m.version({PACKAGE!r}))"
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    return r.stdout.strip() if r.returncode == 0 else None


def install(python: str, whl: Path) -> None:
    """The folder's wheel over whatever build the venv has, then the server extras' dependencies."""
    t0 = time.monotonic()
    pip(python, "install", "-q", "--no-cache-dir", "--force-reinstall", "--no-deps", str(whl))
    # Dependencies only: llama-cpp-python itself is satisfied now, and may come from nowhere but the folder.
    pip(
        python,
        "install",
        "-q",
        "--no-cache-dir",
        "--only-binary",
        PACKAGE,
        "--find-links",
        str(whl.parent),
        f"{PACKAGE}[server]=={VERSION}",
    )
    log(f"installed {whl.name} from {whl.parent.relative_to(REPO)} in {time.monotonic() - t0:.1f} s")


def build(python: str) -> Path:
    """Compile llama-cpp-python from source (pip's cache neither read nor written) into the key's folder."""
    dest = folder(python)
    dest.mkdir(parents=True, exist_ok=True)
    model, flags = cpu_flags()
    args = cmake_args()
    env = dict(
        os.environ, CMAKE_ARGS=args, CMAKE_BUILD_PARALLEL_LEVEL=os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    )
    log(f"building {PACKAGE}=={VERSION} from source with CMAKE_ARGS={args!r} (about 9 min on 2 cores) for: {model}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wheel-", dir=dest) as tmp:
        cmd = [
            python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-cache-dir",
            "--no-deps",
            "--no-binary",
            PACKAGE,
            "-w",
            tmp,
            f"{PACKAGE}=={VERSION}",
        ]
        log("$ " + " ".join(cmd))
        subprocess.run(cmd, check=True, env=env)
        built = wheel_in(Path(tmp))
        if built is None:
            raise SystemExit(f"[llm_wheel] ERROR: pip wheel produced no llama_cpp_python-{VERSION} wheel in {tmp}")
        for old in dest.glob("llama_cpp_python-*.whl"):
            old.unlink()
        final = dest / built.name
        shutil.move(str(built), final)
    seconds = round(time.monotonic() - t0, 1)
    info = {
        "package": f"{PACKAGE}=={VERSION}",
        "wheel": final.name,
        "cmake_args": args,
        "cpu_model": model,
        "cpu_flags": flags,
        "python": python_tag(python),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": seconds,
    }
    (dest / "build.json").write_text(json.dumps(info, indent=1) + "\n")
    log(f"built {final.name} in {seconds:.0f} s ({seconds / 60:.1f} min) -> {dest.relative_to(REPO)}/")
    return final


def cmd_ensure(args: argparse.Namespace) -> int:
    d = folder(args.python)
    whl = wheel_in(d)
    if whl is not None:
        if installed_matches(args.python, whl):
            log(f"llama_cpp in the venv is the build in {d.relative_to(REPO)}/ (this CPU's)")
            return 0
        log(f"the venv's llama_cpp is missing or another build: installing the one built for this CPU ({d.relative_to(REPO)}/)")
        install(args.python, whl)
        return 0
    if installed_version(args.python) == VERSION:
        here = d.relative_to(REPO)
        log(f"llama-cpp-python {VERSION} is installed but was not built here ({here}/ is empty); the server's smoke test will tell")
        return 0
    install(args.python, build(args.python))
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    install(args.python, build(args.python))
    log(f"rebuild and install took {time.monotonic() - t0:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="llama-cpp-python wheels keyed by this CPU's features")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("key", "dir", "ensure", "rebuild"):
        sp = sub.add_parser(name)
        sp.add_argument("--python", default=sys.executable, help="the interpreter whose environment gets llama_cpp (default: this one)")
    args = ap.parse_args(argv)
    if args.cmd == "key":
        print(key(args.python))
        return 0
    if args.cmd == "dir":
        print(folder(args.python))
        return 0
    try:
        return cmd_ensure(args) if args.cmd == "ensure" else cmd_rebuild(args)
    except subprocess.CalledProcessError as ex:
        log(f"ERROR: {' '.join(map(str, ex.cmd))} exited with {ex.returncode}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Image environments: what a run's container offers its processes, when the emulator is started with
``AzureMLEmulator(image_environments=True)``.

On Azure ML every process of a run starts in the container of the run's environment
(https://learn.microsoft.com/azure/machine-learning/concept-environments): the image's file system,
its ``PATH``, its interpreters and tools, nothing of the machine that submitted the run. The emulator
stands for that with a small **catalogue** of Batch AI–era images (:data:`CATALOGUE`), each backed by
a root file system assembled from Debian packages (``scripts/build_image_rootfs.sh``, ``make
image-rootfs``; under ``.tools/rootfs`` or ``$AMLEMU_ROOTFS``):

* ``base``: libc, dash, bash, coreutils & co.; no python3, no MPI, no ssh;
* ``py27``: a layer over ``base`` with Debian 11's python2.7 as ``python`` (the Python 2.7 of
  ``tensorflow/tensorflow:1.8.0-gpu``; Debian 11 is the last release that has it);
* ``mpi``: ``base`` + Debian's Open MPI (``mpirun``, ``orted``);
* ``azureml``: ``mpi`` + a self-contained Python prefix at ``/opt/miniconda`` (Debian's python3.11 and
  stdlib under one prefix with its libraries and an ``$ORIGIN`` RPATH): it stands for the conda
  Python 3.8 of ``mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04`` (the real one is conda's, built
  against glibc 2.17; this one is Debian 12's, built against glibc 2.36, the same glibc as every
  catalogue root, so glibc compatibility itself is not exercised here).

``tensorflow/tensorflow:1.8.0-gpu`` has its real Python 2.7 as ``python``. Images whose real Python is
3.5 or 3.6 have **no** Python here (no Debian release on the archive the build uses has them); what
matters for the node side is that no Python ≥ 3.7 is there. Catalogue images are
otherwise only what their entry says (no TensorFlow, PyTorch or CNTK libraries: test commands use the
shell, or the MPI runtime where the image has one).

Each process runs in a mount namespace (``unshare -m``) chrooted into a read-only overlay of the image's
layers with a per-process writable tmpfs layer on top (deviation: a container's writable layer is
shared by the processes of a node; here writes outside the bound directories last one process), with
``/proc``, ``/dev`` and the emulator's directory (run and node directories, datastores, certificates)
bound at their host paths, and ``/tmp`` and ``/root`` bound to per-node directories. The host's
interpreter, site-packages and tools are out of reach. (Deviation: a command started on another node
through the emulator's ``ssh`` runs in the calling process's namespace, so it sees the caller's ``/tmp``
and ``/root``; its node's own directories, variables and working directory are the target node's.)

**Builds.** A run's environment is an image (``docker.baseImage``) or a Dockerfile
(``docker.baseDockerfile``; Azure ML builds it, caching by the environment's digest:
https://learn.microsoft.com/azure/machine-learning/concept-environments#image-caching-and-reuse).
The emulator builds Dockerfiles of ``FROM <catalogue image> [AS name]``, ``COPY --from=<stage or
image> SRC DST`` and ``ENV`` (each COPY becomes a layer, built once per Dockerfile digest under
``<emulator root>/images``); any other instruction, or an image outside the catalogue, fails the run
as a failed image build/pull fails it on Azure ML (``UserError``).

**Conda environments.** A python section that is not user-managed gets Azure ML's conda environment over the
image (:func:`conda_environment`: Python and azureml-core only). A run on ``compute_target="local"`` without
Docker runs on the host, as Azure ML runs it on the submitting machine (``executor._in_a_container``).

**ssh** between the nodes of a run (images with ``ssh``): an emulator layer puts the emulator's
``ssh`` (:mod:`.nodessh`) at ``/usr/bin/ssh``, run by the ``python`` prefix of the catalogue bound at
``/usr/lib/amlemu/python`` (it stands for the image's OpenSSH client and the nodes' sshd; it is not the
host's interpreter and has no site-packages).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOTFS_VARIABLE = "AMLEMU_ROOTFS"
_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
AMLEMU_DIR = "/usr/lib/amlemu"


@dataclass(frozen=True)
class CatalogueImage:
    name: str                      # repository[:tag] as users write it
    rootfs: str                    # base | mpi | azureml, or layers over one, top first: "py27+base"
    real_python: Optional[str]     # the Python the real image has ("2.7", "3.5", None = none)
    mpi: bool                      # mpirun in the image
    ssh: bool                      # an ssh client in the image
    env: Tuple[Tuple[str, str], ...] = ()
    note: str = ""


# Batch AI-era images (the recipes of https://github.com/Azure/BatchAI, recipes/) and the Azure ML base image.
CATALOGUE: Dict[str, CatalogueImage] = {image.name: image for image in (
    CatalogueImage("tensorflow/tensorflow:1.8.0-gpu", "py27+base", "2.7", False, False,
                   note="Python 2.7 as python (Debian 11's), no python3, TensorFlow 1.8 (not provided), no MPI, "
                        "no ssh"),
    CatalogueImage("tensorflow/tensorflow:1.8.0-gpu-py3", "base", "3.5", False, False,
                   note="Python 3.5 (not provided here: no python3 >= 3.7), no MPI, no ssh"),
    CatalogueImage("pytorch/pytorch:0.4_cuda9_cudnn7", "base", "3.6", False, False,
                   note="conda Python 3.6 (not provided here), PyTorch 0.4 (not provided), no MPI, no ssh"),
    CatalogueImage("microsoft/cntk:2.5.1-gpu-python3.5-cuda9.0-cudnn7.0", "mpi", "3.5", True, True,
                   note="Open MPI and an ssh client (CNTK's distributed training runs under mpirun); Python 3.5 "
                        "(not provided here)"),
    # Docker Hub's official ubuntu images (https://hub.docker.com/_/ubuntu) are Ubuntu's minimal base root file
    # system (docker-library/official-images, library/ubuntu: built from the ubuntu-base tarballs of
    # https://git.launchpad.net/cloud-images/+oci/ubuntu-base): a shell and coreutils, no Python (python3 is not
    # in that package set), no MPI, no ssh client. ``ubuntu`` without a tag is ``ubuntu:latest`` (Docker's
    # default tag, https://docs.docker.com/reference/cli/docker/image/pull/): today's LTS, the same contents here.
    CatalogueImage("ubuntu:16.04", "base", None, False, False, note="no Python at all"),
    CatalogueImage("ubuntu:latest", "base", None, False, False, note="no Python at all (what `ubuntu` names)"),
    # Azure/AzureML-Containers, base/cpu/openmpi4.1.0-ubuntu20.04/Dockerfile: Miniconda3 (py38) installed with
    # ``bash miniconda.sh -bf -p /opt/miniconda`` and ``ENV PATH /opt/miniconda/bin:$PATH``, so ``python`` and
    # ``python3`` in a run's command are conda's Python 3.8; ``openssh-client``/``openssh-server``; Open MPI 4.1.0
    # built into /usr/local; no azureml-core. Here the prefix holds Debian's python3.11 as python/python3.
    CatalogueImage("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04", "azureml", "3.8", True, True,
                   env=(("PATH", "/opt/miniconda/bin:" + _IMAGE_PATH),),
                   note="conda Python at /opt/miniconda (a Debian python3.11 prefix stands for it), Open MPI, ssh; "
                        "no azureml-core"),
)}
# Azure ML's base images are referenced with dated tags (":20240304.v1"): the repository names the image.
_BY_REPOSITORY = {"mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"}


class ImageError(Exception):
    """The run's image cannot be pulled or built (the run fails with ``UserError``)."""


def normalize(reference: str) -> str:
    name = str(reference or "").strip().split("@", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def lookup(reference: str) -> CatalogueImage:
    name = normalize(reference)
    if name in CATALOGUE:
        return CATALOGUE[name]
    if name and ":" not in name.rsplit("/", 1)[-1] and name + ":latest" in CATALOGUE:
        return CATALOGUE[name + ":latest"]  # no tag means "latest" (Docker's default tag)
    repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    if repository in _BY_REPOSITORY:
        return CATALOGUE[repository]
    raise ImageError(f"Failed to pull image '{reference}': the Azure ML emulator's image catalogue has "
                     f"{', '.join(sorted(CATALOGUE))} only (batchai_compat/testing/amlemu/images.py)")


def rootfs_dir() -> str:
    configured = os.environ.get(ROOTFS_VARIABLE)
    if configured:
        return os.path.abspath(configured)
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, os.pardir, os.pardir, os.pardir, ".tools", "rootfs"))


def layers_of(image: CatalogueImage) -> List[str]:
    """The image's root file system layers, top first."""
    paths = [os.path.join(rootfs_dir(), name) for name in image.rootfs.split("+")]
    if not all(os.path.isdir(os.path.join(path, "usr")) for path in paths) or \
            not os.path.isdir(os.path.join(paths[-1], "bin")):
        raise ImageError(f"the root file system for image '{image.name}' is missing under {rootfs_dir()}: build "
                         "it with `make image-rootfs` (scripts/build_image_rootfs.sh)")
    return paths


@dataclass
class BuiltImage:
    """A run's image: overlay layers (top first), its environment and what it provides."""
    name: str
    layers: List[str]
    env: Dict[str, str]
    mpi: bool
    ssh: bool
    binds: List[Tuple[str, str]] = field(default_factory=list)   # (host path, path in the image), read-only

    @property
    def lowerdir(self) -> str:
        return ":".join(self.layers)


_BUILD_LOCK = threading.Lock()
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$")


def _copy_layer(cache: str, source_root: str, src: str, dst: str, index: int) -> str:
    layer = os.path.join(cache, f"layer{index}")
    target = os.path.join(layer, dst.strip("/"))
    if os.path.isdir(layer) and os.path.exists(os.path.join(cache, f"layer{index}.done")):
        return layer
    shutil.rmtree(layer, ignore_errors=True)
    source = os.path.join(source_root, src.strip("/"))
    if not os.path.exists(source):
        raise ImageError(f"COPY failed: {src} not found in the source stage")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.isdir(source) and not os.path.islink(source):
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
    open(os.path.join(cache, f"layer{index}.done"), "w").close()
    return layer


def build(docker: Dict[str, object], cache_root: str) -> BuiltImage:
    """The image of a run's ``environment.docker`` section (see the module docstring)."""
    dockerfile = docker.get("baseDockerfile") or docker.get("base_dockerfile")
    if not dockerfile:
        reference = str(docker.get("baseImage") or docker.get("base_image") or "")
        if not reference:
            raise ImageError("the run's environment names no image and no Dockerfile")
        image = lookup(reference)
        return BuiltImage(image.name, layers_of(image), _env_of(image), image.mpi, image.ssh)
    text = str(dockerfile)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    cache = os.path.join(cache_root, digest)
    stages: Dict[str, Tuple[CatalogueImage, List[str]]] = {}
    current: Optional[CatalogueImage] = None
    layers: List[str] = []
    env: Dict[str, str] = {}
    with _BUILD_LOCK:
        os.makedirs(cache, exist_ok=True)
        count = 0
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _INSTRUCTION.match(line)
            if not match:
                raise ImageError(f"Dockerfile parse error: {line!r}")
            op, rest = match.group(1).upper(), match.group(2).strip()
            if op == "FROM":
                words = rest.split()
                if current is not None:
                    stages[str(len(stages))] = (current, layers)
                current = lookup(words[0])
                layers = layers_of(current)
                env = _env_of(current)
                if len(words) == 3 and words[1].upper() == "AS":
                    stages[words[2]] = (current, layers)
            elif current is None:
                raise ImageError("Dockerfile: the first instruction must be FROM")
            elif op == "COPY":
                words = rest.split()
                source_flag = [w for w in words if w.startswith("--from=")]
                paths = [w for w in words if not w.startswith("--")]
                if not source_flag or len(paths) != 2:
                    raise ImageError("the Azure ML emulator builds COPY --from=<stage> SRC DST only (the build "
                                     "context is empty)")
                source = source_flag[0].split("=", 1)[1]
                stage = stages.get(source)
                source_layers = stage[1] if stage else layers_of(lookup(source))
                root = next((lay for lay in source_layers if os.path.exists(os.path.join(lay, paths[0].strip("/")))),
                            source_layers[-1])  # the topmost layer that has SRC
                count += 1
                layers = [_copy_layer(cache, root, paths[0], paths[1], count)] + layers
            elif op == "ENV":
                if "=" in rest.split()[0]:
                    for pair in rest.split():
                        key, _, value = pair.partition("=")
                        env[key] = value.strip('"')
                else:
                    key, _, value = rest.partition(" ")
                    env[key] = value.strip().strip('"')
            else:
                raise ImageError(f"the Azure ML emulator cannot execute Dockerfile instruction {op} (it builds "
                                 "FROM, COPY --from and ENV only)")
    if current is None:
        raise ImageError("Dockerfile without FROM")
    return BuiltImage(current.name, layers, env, current.mpi, current.ssh)


def _env_of(image: CatalogueImage) -> Dict[str, str]:
    env = {"PATH": _IMAGE_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
    env.update(dict(image.env))
    return env


def emulator_layer(root: str, nodessh: str, launcher_ssh: str) -> str:
    """The layer holding the emulator's ``ssh`` for images with an ssh client (see the module docstring)."""
    layer = os.path.join(root, "amlemu-layer")
    with _BUILD_LOCK:
        if not os.path.exists(os.path.join(layer, ".done")):
            os.makedirs(os.path.join(layer, AMLEMU_DIR.strip("/"), "python"), exist_ok=True)
            os.makedirs(os.path.join(layer, "usr", "bin"), exist_ok=True)
            shutil.copy2(nodessh, os.path.join(layer, AMLEMU_DIR.strip("/"), "nodessh.py"))
            shutil.copy2(launcher_ssh, os.path.join(layer, AMLEMU_DIR.strip("/"), "launcher_ssh.py"))
            ssh = os.path.join(layer, "usr", "bin", "ssh")
            with open(ssh, "w") as fh:
                fh.write(f"#!/bin/sh\nexec {AMLEMU_DIR}/python/bin/python3 -E -s {AMLEMU_DIR}/nodessh.py \"$@\"\n")
            os.chmod(ssh, 0o755)
            open(os.path.join(layer, ".done"), "w").close()
    return layer


# -- conda environments (python.userManagedDependencies false) ------------------------------------------------
# Azure ML builds a conda environment from the environment's conda specification on top of its image, under
# /azureml-envs/azureml_<hash>, and runs the job with that environment's python first on PATH
# (https://learn.microsoft.com/azure/machine-learning/concept-environments#types-of-environments: "system-managed
# environments ... Azure ML creates a new conda environment"). The default specification of azureml-core 1.61 is
# a Python plus the pip package azureml-defaults (azureml/core/conda_dependencies.py). The emulator can provide a
# Python (the catalogue's prefix) and azureml-core with its requirements only: their files are taken from the
# distributions installed for the emulator's own interpreter (what ``pip install azureml-core`` would put there,
# at the version installed here, whatever version the specification pins: a deviation), hard-linked into a layer
# built once per machine under ``<rootfs dir>-layers``. The environment's site-packages hold nothing else of the
# host. Any other conda or pip package fails the build (the emulator cannot install it).
CONDA_PROVIDED_PIP = {"azureml-core": "azureml-core", "azureml-defaults": "azureml-core"}
CONDA_PROVIDED = {"python", "pip"}
_DEFAULT_CONDA = {"dependencies": ["python", {"pip": ["azureml-defaults"]}]}


def _package_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec.strip(), maxsplit=1)[0].strip().lower().replace("_", "-")


def _distribution_closure(root: str) -> List[object]:
    import importlib.metadata as metadata

    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging comes with pip/setuptools and azureml-core
        Requirement = None  # type: ignore[assignment,misc]
    found: Dict[str, object] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = dist
        for text in dist.requires or []:
            if Requirement is None:
                todo.append(_package_name(text))
                continue
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def conda_environment(python: Dict[str, object]) -> Optional[Tuple[str, str]]:
    """``(layer, prefix)`` of the conda environment Azure ML would build for a python section that is not
    user-managed, or None for a user-managed one (see the comment above)."""
    if python.get("userManagedDependencies", python.get("user_managed_dependencies", True)):
        return None
    spec = python.get("condaDependencies") or _DEFAULT_CONDA
    dependencies = spec.get("dependencies", []) if isinstance(spec, dict) else []
    wanted = set()
    for dep in dependencies:
        if isinstance(dep, dict):
            for pip_spec in dep.get("pip", []) or []:
                if str(pip_spec).strip().startswith("-"):
                    continue  # a pip option (--index-url, --find-links ...): no package
                name = _package_name(str(pip_spec))
                if name not in CONDA_PROVIDED_PIP:
                    raise ImageError(f"conda environment build: the Azure ML emulator cannot install pip package "
                                     f"'{pip_spec}' (it provides {', '.join(sorted(CONDA_PROVIDED_PIP))} only)")
                wanted.add(CONDA_PROVIDED_PIP[name])
        elif _package_name(str(dep).split("=", 1)[0]) not in CONDA_PROVIDED:
            raise ImageError(f"conda environment build: the Azure ML emulator cannot install conda package '{dep}' "
                             "(it provides python and pip only)")
    dists = [d for root in sorted(wanted) for d in _distribution_closure(root)]
    versions = sorted(f"{d.metadata['Name']}=={d.version}" for d in dists)  # type: ignore[attr-defined]
    digest = hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]
    prefix = f"/azureml-envs/azureml_{digest}"
    layer = os.path.join(rootfs_dir() + "-layers", "conda-" + digest)
    with _BUILD_LOCK:
        if not os.path.exists(os.path.join(layer, ".done")):
            shutil.rmtree(layer, ignore_errors=True)
            target = os.path.join(layer, prefix.strip("/"))
            shutil.copytree(os.path.join(rootfs_dir(), "python"), target, symlinks=True, copy_function=_link_or_copy)
            site = os.path.join(target, "lib", "python3.11", "dist-packages")
            for dist in dists:
                for file in dist.files or []:  # type: ignore[attr-defined]
                    source = str(dist.locate_file(file))  # type: ignore[attr-defined]
                    relative = os.path.normpath(str(file))
                    if relative.startswith("..") or not os.path.isfile(source) or "__pycache__" in relative:
                        continue  # console scripts (../../bin) and caches are not needed
                    os.makedirs(os.path.dirname(os.path.join(site, relative)), exist_ok=True)
                    _link_or_copy(source, os.path.join(site, relative))
            open(os.path.join(layer, ".done"), "w").close()
    return layer, prefix


def _link_or_copy(source: str, target: str) -> str:
    if os.path.lexists(target):
        return target  # a file two distributions share (a namespace package's __init__.py)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


# Runs in the host's /bin/sh inside a new mount namespace (unshare -m --propagation private), then
# chroots into the image: sandbox DIR LOWERDIR CWD NBINDS [SRC DST RO]... -- ARGV...
SANDBOX_SCRIPT = r"""
set -e
S=$1; LOWER=$2; CWD=$3; N=$4; shift 4
mount -t tmpfs -o mode=0755 amlemu "$S"
mkdir "$S/u" "$S/w" "$S/r"
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$S/u,workdir=$S/w" "$S/r"
mount -t proc proc "$S/r/proc"
mount --rbind /dev "$S/r/dev"
i=0
while [ "$i" -lt "$N" ]; do
  mkdir -p "$S/r$2"
  mount --bind "$1" "$S/r$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$S/r$2"; fi
  shift 3; i=$((i + 1))
done
[ "$1" = -- ] && shift
exec chroot "$S/r" /bin/sh -c 'cd "$1" || exit 1; shift; exec "$@"' amlemu-cwd "$CWD" "$@"
"""


def sandbox_argv(image: BuiltImage, sandbox_dir: str, cwd: str, binds: List[Tuple[str, str, bool]],
                 argv: List[str]) -> List[str]:
    """The host command that runs ``argv`` in ``image`` (working directory ``cwd``, a path inside it)."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    words: List[str] = []
    for src, dst, read_only in binds:
        words += [src, dst, "ro" if read_only else "rw"]
    return [unshare, "-m", "--propagation", "private", "/bin/sh", "-c", SANDBOX_SCRIPT, "amlemu-sandbox",
            sandbox_dir, image.lowerdir, cwd, str(len(binds))] + words + ["--"] + list(argv)


__all__ = ["CATALOGUE", "BuiltImage", "CatalogueImage", "ImageError", "build", "conda_environment", "emulator_layer",
           "lookup", "rootfs_dir", "sandbox_argv"]

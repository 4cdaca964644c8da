#!/bin/sh
# Root file systems that stand for the container images of the Azure ML emulator's image catalogue
# (batchai_compat/testing/amlemu/images.py), assembled from Debian packages of the machine's apt
# sources with `apt-get download` + `dpkg -x` (no root tricks, no package scripts run):
#
#   <out>/base      libc, dash, bash, coreutils, ...: what a Batch AI-era image offers a shell
#                   command (no python3 >= 3.7, no MPI, no ssh)
#   <out>/mpi       base + Debian's Open MPI (mpirun, orted)
#   <out>/azureml   mpi + a self-contained Python prefix at /opt/miniconda (stands for the conda
#                   python of the Azure ML base images)
#   <out>/py27      a layer over base: Debian 11's python2.7 (the last Debian release that has it: the
#                   Python 2.7 of tensorflow/tensorflow:1.8.0-gpu) as /usr/bin/python, and its libraries
#   <out>/python    the Python prefix alone: Debian's python3.11 and stdlib laid out under one prefix,
#                   its shared libraries beside it and an RPATH of $ORIGIN/../lib (as conda builds it;
#                   glibc is the only library it takes from the image)
#
# Usage: scripts/build_image_rootfs.sh [OUT]   (default .tools/rootfs; idempotent: a stamp file
# records the package set, a second run with the same set does nothing).
set -eu

OUT=${1:-.tools/rootfs}
BASE_PKGS="base-files dash bash coreutils sed grep findutils mawk procps util-linux gzip tar hostname"
MPI_PKGS="openmpi-bin"
PY_PKGS="python3.11-minimal libpython3.11-stdlib"
# python2.7 from Debian 11 (bullseye); the libraries it shares with Debian 12 from the machine's sources.
PY27_OLD_PKGS="python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib libssl1.1 libffi7"
PY27_PKGS="libexpat1 libdb5.3 libgdbm6 libgdbm-compat4 libsqlite3-0 libreadline8 libncursesw6 libtinfo6 libnsl2
 libtirpc3 libtirpc-common libbz2-1.0 media-types mailcap readline-common libkrb5-3 libgssapi-krb5-2 libk5crypto3
 libkrb5support0 libkeyutils1 libcom-err2"
OLD_SUITE="deb http://deb.debian.org/debian bullseye main"
STAMP_TEXT="v2 base:$BASE_PKGS mpi:$MPI_PKGS python:$PY_PKGS py27:$PY27_OLD_PKGS/$PY27_PKGS"

if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$STAMP_TEXT" ]; then
    exit 0
fi

# A fresh machine may have no package lists yet (apt-cache knows no bash): fetch them once.
if ! apt-cache show bash >/dev/null 2>&1; then
    apt-get update -qq
fi

ARCH=$(dpkg --print-architecture)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rootfs-build.XXXXXX")
chmod 0755 "$WORK"  # apt downloads as _apt where it can
trap 'rm -rf "$WORK"' EXIT INT TERM

closure() {
    # Every package the given packages depend on (Depends and Pre-Depends), by name, this architecture.
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
        --no-enhances "$@" 2>/dev/null | grep -v '^ ' | grep -v '^<' | grep -v ':' | sort -u
}

download() {  # download DIR PACKAGE...
    dir=$1; shift
    mkdir -p "$dir"
    (cd "$dir" && apt-get download -q=2 "$@" 2>&1 | grep -v 'unsandboxed' >&2 || true)
}

extract() {  # extract DEB_DIR ROOT
    mkdir -p "$2"
    for deb in "$1"/*.deb; do dpkg -x "$deb" "$2"; done
}

finish_root() {  # what package scripts would have done, for the little these roots need
    root=$1
    [ -e "$root/bin/sh" ] || ln -s dash "$root/bin/sh"
    mkdir -p "$root/etc" "$root/tmp" "$root/root" "$root/proc" "$root/dev" "$root/sys" "$root/run" "$root/home"
    chmod 1777 "$root/tmp"
    printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
        > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
}

# -- base ------------------------------------------------------------------------------------------
download "$WORK/debs-base" $(closure $BASE_PKGS)
rm -rf "$OUT.new"
mkdir -p "$OUT.new"
extract "$WORK/debs-base" "$OUT.new/base"
finish_root "$OUT.new/base"

# -- mpi: base + Open MPI ----------------------------------------------------------------------------
download "$WORK/debs-mpi" $(closure $MPI_PKGS)
cp -a "$OUT.new/base" "$OUT.new/mpi"
extract "$WORK/debs-mpi" "$OUT.new/mpi"
for tool in mpirun mpiexec; do  # update-alternatives' links
    [ -e "$OUT.new/mpi/usr/bin/$tool" ] || ln -s "$tool.openmpi" "$OUT.new/mpi/usr/bin/$tool"
done

# -- the Python prefix ----------------------------------------------------------------------------------
download "$WORK/debs-py" $(closure $PY_PKGS)
download "$WORK/debs-tools" patchelf
extract "$WORK/debs-py" "$WORK/py"
extract "$WORK/debs-tools" "$WORK/tools"
PATCHELF="$WORK/tools/usr/bin/patchelf"
PREFIX="$OUT.new/python"
mkdir -p "$PREFIX/bin" "$PREFIX/lib"
cp -a "$WORK/py/usr/bin/python3.11" "$PREFIX/bin/python3.11"
ln -s python3.11 "$PREFIX/bin/python3"
ln -s python3.11 "$PREFIX/bin/python"
cp -a "$WORK/py/usr/lib/python3.11" "$PREFIX/lib/python3.11"
# Every shared library of the closure except glibc's (the one library a conda python takes from the image).
GLIBC_FILES=$(dpkg -c "$WORK"/debs-py/libc6_*.deb | awk '{print $6}' | sed 's|^\./||')
for dir in lib/$ARCH-linux-gnu usr/lib/$ARCH-linux-gnu lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
    [ -d "$WORK/py/$dir" ] || continue
    for lib in "$WORK/py/$dir"/*.so*; do
        [ -e "$lib" ] || continue
        rel=${lib#"$WORK/py/"}
        if printf '%s\n' "$GLIBC_FILES" | grep -qx "$rel"; then continue; fi
        cp -a "$lib" "$PREFIX/lib/"
    done
done
"$PATCHELF" --set-rpath '$ORIGIN/../lib' "$PREFIX/bin/python3.11"
for ext in "$PREFIX"/lib/python3.11/lib-dynload/*.so; do
    "$PATCHELF" --set-rpath '$ORIGIN/../..' "$ext"
done

# -- py27: Debian 11's python2.7 over base ------------------------------------------------------------
mkdir -p "$WORK/old/lists/partial" "$WORK/old/cache/archives/partial"
printf '%s\n' "$OLD_SUITE" > "$WORK/old/sources.list"
OLD="-o Dir::Etc::SourceList=$WORK/old/sources.list -o Dir::Etc::SourceParts=/dev/null
 -o Dir::State::Lists=$WORK/old/lists -o Dir::Cache=$WORK/old/cache"
# shellcheck disable=SC2086
apt-get -q=2 $OLD update
mkdir -p "$WORK/debs-py27-old"
# shellcheck disable=SC2086
(cd "$WORK/debs-py27-old" && apt-get -q=2 $OLD download $PY27_OLD_PKGS 2>&1 | grep -v 'unsandboxed' >&2 || true)
# shellcheck disable=SC2086
download "$WORK/debs-py27" $PY27_PKGS
extract "$WORK/debs-py27-old" "$OUT.new/py27"
extract "$WORK/debs-py27" "$OUT.new/py27"
ln -s python2.7 "$OUT.new/py27/usr/bin/python"
ln -s python2.7 "$OUT.new/py27/usr/bin/python2"

# -- azureml: mpi + the prefix at /opt/miniconda ---------------------------------------------------------
cp -a "$OUT.new/mpi" "$OUT.new/azureml"
mkdir -p "$OUT.new/azureml/opt"
cp -a "$PREFIX" "$OUT.new/azureml/opt/miniconda"

printf '%s' "$STAMP_TEXT" > "$OUT.new/.stamp"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
du -sh "$OUT"/* | sed 's/^/rootfs: /'

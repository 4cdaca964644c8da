#!/bin/bash
# Job preparation of the Horovod recipes: they installed MPI and Horovod on every node
# (apt-get install mpi-default-bin, pip install horovod). The allreduce below needs neither Horovod
# nor an MPI binding, only the mpirun that starts it, so this step just checks that it is there.
set -e
command -v mpirun > /dev/null || { echo "mpirun not found on this node" >&2; exit 1; }
echo "Node ready: $(mpirun --version 2>&1 | head -n 1)"

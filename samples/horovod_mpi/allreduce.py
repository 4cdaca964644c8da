"""A Horovod-style data-parallel step without Horovod: every MPI rank computes a partial result on
its shard of the data, then the ranks *allreduce* it (sum) through files in a directory all ranks
share, and every rank checks the total against the closed form.

Rank and world size come from Open MPI (``OMPI_COMM_WORLD_RANK``/``SIZE``/``LOCAL_RANK``).
"""

from __future__ import print_function

import argparse
import os
import socket
import sys
import time


def allreduce_sum(value, rank, size, directory, name='sum', timeout=60.0):
    """Sum of ``value`` over all ranks: each rank publishes its value atomically, then reads all."""
    os.makedirs(directory, exist_ok=True)
    mine = os.path.join(directory, '{0}-{1}'.format(name, rank))
    with open(mine + '.tmp', 'w') as f:
        f.write(repr(value))
    os.rename(mine + '.tmp', mine)
    deadline = time.time() + timeout
    total = 0
    for other in range(size):
        path = os.path.join(directory, '{0}-{1}'.format(name, other))
        while not os.path.exists(path):
            if time.time() > deadline:
                raise RuntimeError('rank {0} never published its value'.format(other))
            time.sleep(0.01)
        with open(path) as f:
            total += int(f.read())
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--values', type=int, default=1000, help='sum the squares of 1..VALUES')
    parser.add_argument('--rendezvous', required=True, help='a directory every rank can see')
    flags = parser.parse_args()
    rank = int(os.environ['OMPI_COMM_WORLD_RANK'])
    size = int(os.environ['OMPI_COMM_WORLD_SIZE'])
    local_rank = int(os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
    shard = range(rank + 1, flags.values + 1, size)
    partial = sum(v * v for v in shard)
    print('rank {0} of {1} (local rank {2}) on {3}: partial sum of squares = {4}'.format(
        rank, size, local_rank, socket.gethostname(), partial))
    sys.stdout.flush()
    total = allreduce_sum(partial, rank, size, flags.rendezvous)
    expected = flags.values * (flags.values + 1) * (2 * flags.values + 1) // 6
    print('rank {0}: allreduce total = {1} ({2})'.format(rank, total, 'correct' if total == expected else
                                                           'WRONG, expected {0}'.format(expected)))
    return 0 if total == expected else 1


if __name__ == '__main__':
    sys.exit(main())

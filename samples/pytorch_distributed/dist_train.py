"""Data-parallel training in the shape of a ``torch.distributed`` script, without torch.

The command line is the PyTorch recipe's (``--world-size --dist-backend --dist-url --rank``). With
``--dist-url file:///<path>`` (what Batch AI passes in ``$AZ_BATCHAI_PYTORCH_INIT_METHOD``) the ranks
rendezvous as torch's file store does: rank 0 opens a TCP port and publishes its address next to
that path; the other ranks read it and connect. Each step, every rank computes the gradient of a
linear model on its shard, the gradients are averaged (allreduce through rank 0) and every rank
applies the same update, so the replicas stay identical. Rank 0 writes the model to ``--output``.
"""

from __future__ import print_function

import argparse
import json
import os
import random
import socket
import struct
import sys
import time

VECTOR = struct.Struct('>dd')


def recv_exactly(sock, size):
    data = b''
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError('peer closed the connection')
        data += chunk
    return data


class ProcessGroup(object):
    """A star-shaped process group: rank 0 holds a connection to every other rank."""

    def __init__(self, init_method, world_size, rank, timeout=60.0):
        if not init_method.startswith('file://'):
            raise SystemExit('only file:// init methods are supported, got {0!r}'.format(init_method))
        spot = init_method[len('file://'):] + '.rank0'
        self.rank, self.world_size, self.peers = rank, world_size, []
        if rank == 0:
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(('0.0.0.0', 0))
            server.listen(world_size)
            address = '{0}:{1}'.format(self._my_address(), server.getsockname()[1])
            with open(spot + '.tmp', 'w') as f:
                f.write(address)
            os.rename(spot + '.tmp', spot)
            for _ in range(world_size - 1):
                conn, _ = server.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.peers.append(conn)
            server.close()
        else:
            deadline = time.time() + timeout
            while not os.path.exists(spot):
                if time.time() > deadline:
                    raise RuntimeError('rank 0 never published its address at ' + spot)
                time.sleep(0.01)
            with open(spot) as f:
                host, port = f.read().rsplit(':', 1)
            self.peers.append(socket.create_connection((host, int(port)), timeout=timeout))
            self.peers[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @staticmethod
    def _my_address():
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return '127.0.0.1'

    def allreduce_mean(self, values):
        """The element-wise mean of a 2-vector over all ranks, returned to every rank."""
        if self.rank == 0:
            total = list(values)
            for peer in self.peers:
                other = VECTOR.unpack(recv_exactly(peer, VECTOR.size))
                total = [a + b for a, b in zip(total, other)]
            mean = [v / self.world_size for v in total]
            for peer in self.peers:
                peer.sendall(VECTOR.pack(*mean))
            return mean
        self.peers[0].sendall(VECTOR.pack(*values))
        return list(VECTOR.unpack(recv_exactly(self.peers[0], VECTOR.size)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--world-size', type=int, required=True)
    parser.add_argument('--rank', type=int, required=True)
    parser.add_argument('--dist-backend', default='gloo')
    parser.add_argument('--dist-url', required=True)
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--lr', type=float, default=0.5)
    parser.add_argument('--output')
    flags = parser.parse_args()
    print('rank {0} of {1}: backend {2} ({3}), init method {4}'.format(
        flags.rank, flags.world_size, flags.dist_backend, os.environ.get('AZ_BATCHAI_PYTORCH_BACKEND'),
        flags.dist_url))
    group = ProcessGroup(flags.dist_url, flags.world_size, flags.rank)

    # The dataset y = 3x + 2 + noise, sharded by rank (a DistributedSampler in torch).
    rng = random.Random(7)
    data = [(x, 3.0 * x + 2.0 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(400))]
    shard = data[flags.rank::flags.world_size]
    w = b = 0.0
    for epoch in range(1, flags.epochs + 1):
        grad_w = sum(2 * (w * x + b - y) * x for x, y in shard) / len(shard)
        grad_b = sum(2 * (w * x + b - y) for x, y in shard) / len(shard)
        grad_w, grad_b = group.allreduce_mean([grad_w, grad_b])
        w, b = w - flags.lr * grad_w, b - flags.lr * grad_b
        loss = sum((w * x + b - y) ** 2 for x, y in shard) / len(shard)
        if epoch % 5 == 0 or epoch == flags.epochs:
            print('Rank {0}, epoch {1}: loss {2:.5f}, w {3:.4f}, b {4:.4f}'.format(flags.rank, epoch, loss, w, b))
            sys.stdout.flush()
    if flags.rank == 0 and flags.output:
        with open(os.path.join(flags.output, 'model.json'), 'w') as f:
            json.dump({'w': w, 'b': b, 'epochs': flags.epochs, 'world_size': flags.world_size}, f)
        print('Saved model.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())

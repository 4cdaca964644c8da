"""Distributed MNIST training with one parameter server and N workers, in the shape of
TensorFlow's ``mnist_replica.py`` (the script of the Batch AI TensorFlow-GPU-Distributed recipe),
written in plain Python so that it runs anywhere in seconds: no TensorFlow, no numpy.

* The cluster comes from ``--ps_hosts``/``--worker_hosts``/``--job_name``/``--task_index`` (the
  recipe passes ``$AZ_BATCHAI_PS_HOSTS`` etc.) or, for anything not given, from ``TF_CONFIG``.
* The parameter server holds the weights of a softmax regression and the global step. It serves
  until it is stopped, like ``server.join()``.
* Each worker reads the MNIST IDX files of ``--data_dir``, trains on its shard of the training set:
  computes the gradient of a minibatch, pushes it to the parameter server, which applies it and
  answers with the new weights and global step (asynchronous SGD over TCP). Workers stop when the
  global step reaches ``--train_steps``.
* Worker 0 (the chief) evaluates the final model on the test set and writes it to
  ``--checkpoint_dir``; every worker writes its loss curve to ``--log_dir``.
"""

from __future__ import print_function

import argparse
import array
import gzip
import json
import math
import os
import random
import socket
import socketserver
import struct
import sys
import threading
import time

CLASSES = 10
REQUEST = struct.Struct('>4sI')      # operation, payload length in bytes
RESPONSE = struct.Struct('>qBI')     # global step, training done, payload length in bytes
LR = struct.Struct('>d')


def log(message):
    print('{0:.6f}: {1}'.format(time.time(), message))
    sys.stdout.flush()


# -- cluster description ---------------------------------------------------------------------------
def cluster_from(flags):
    """(ps hosts, worker hosts, job name, task index) from the flags, completed from TF_CONFIG."""
    tf_config = json.loads(os.environ.get('TF_CONFIG') or '{}')
    cluster = tf_config.get('cluster') or {}
    task = tf_config.get('task') or {}
    ps_hosts = [h for h in (flags.ps_hosts or ','.join(cluster.get('ps') or [])).split(',') if h]
    worker_hosts = [h for h in (flags.worker_hosts or ','.join(
        (cluster.get('master') or []) + (cluster.get('worker') or []))).split(',') if h]
    job_name = flags.job_name or {'master': 'worker', 'chief': 'worker'}.get(task.get('type'), task.get('type'))
    task_index = flags.task_index if flags.task_index is not None else task.get('index')
    if not ps_hosts or not worker_hosts or job_name not in ('ps', 'worker') or task_index is None:
        raise SystemExit('cannot tell the cluster layout: give --ps_hosts, --worker_hosts, --job_name and '
                         '--task_index, or set TF_CONFIG')
    return ps_hosts, worker_hosts, job_name, int(task_index)


def split_host(address):
    host, _, port = address.rpartition(':')
    return host, int(port)


# -- wire helpers ----------------------------------------------------------------------------------
def recv_exactly(sock, size):
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError('connection closed')
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


def to_bytes(values):
    data = array.array('d', values)
    if sys.byteorder != 'big':
        data.byteswap()
    return data.tobytes()


def from_bytes(payload):
    data = array.array('d')
    data.frombytes(payload)
    if sys.byteorder != 'big':
        data.byteswap()
    return data


# -- parameter server ------------------------------------------------------------------------------
class ParameterServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address, size, train_steps):
        socketserver.ThreadingTCPServer.__init__(self, address, _PsHandler)
        self.weights = array.array('d', [0.0]) * size
        self.global_step = 0
        self.train_steps = train_steps
        self.lock = threading.Lock()

    def answer(self):
        return RESPONSE.pack(self.global_step, self.global_step >= self.train_steps,
                             8 * len(self.weights)) + to_bytes(self.weights)


class _PsHandler(socketserver.BaseRequestHandler):
    def handle(self):
        server, sock = self.server, self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = '{0}:{1}'.format(*self.client_address)
        log('Parameter server: worker connected from {0}'.format(peer))
        try:
            while True:
                operation, length = REQUEST.unpack(recv_exactly(sock, REQUEST.size))
                payload = recv_exactly(sock, length)
                with server.lock:
                    if operation == b'PUSH':
                        learning_rate = LR.unpack(payload[:LR.size])[0]
                        weights, gradient = server.weights, from_bytes(payload[LR.size:])
                        for i, g in enumerate(gradient):
                            if g:
                                weights[i] -= learning_rate * g
                        server.global_step += 1
                    reply = server.answer()
                sock.sendall(reply)
        except ConnectionError:
            log('Parameter server: worker {0} disconnected'.format(peer))


def run_ps(address, size, train_steps):
    server = ParameterServer(split_host(address), size, train_steps)
    log('Parameter server 0 listening on {0}; serving until stopped'.format(address))
    server.serve_forever()


class PsClient(object):
    def __init__(self, address, timeout=120.0):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection(split_host(address), timeout=60)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _call(self, operation, payload=b''):
        self.sock.sendall(REQUEST.pack(operation, len(payload)) + payload)
        step, done, length = RESPONSE.unpack(recv_exactly(self.sock, RESPONSE.size))
        return step, bool(done), from_bytes(recv_exactly(self.sock, length))

    def pull(self):
        return self._call(b'PULL')

    def push(self, gradient, learning_rate):
        return self._call(b'PUSH', LR.pack(learning_rate) + to_bytes(gradient))

    def close(self):
        self.sock.close()


# -- data and model --------------------------------------------------------------------------------
def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, count = struct.unpack('>II', data[:8])
    if magic == 2049:
        return list(data[8:8 + count])
    rows, cols = struct.unpack('>II', data[8:16])
    size = rows * cols
    return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)]


def load(data_dir, images, labels):
    """Examples as (active feature indices incl. the bias, label); features are binarised pixels."""
    pixels = read_idx(os.path.join(data_dir, images))
    targets = read_idx(os.path.join(data_dir, labels))
    width = len(pixels[0])
    return [([i for i, p in enumerate(image) if p >= 128] + [width], label)
            for image, label in zip(pixels, targets)], width + 1


def probabilities(weights, features, width):
    logits = [sum(weights[k * width + i] for i in features) for k in range(CLASSES)]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def minibatch_gradient(weights, batch, width):
    gradient = array.array('d', [0.0]) * (CLASSES * width)
    loss = 0.0
    for features, label in batch:
        probs = probabilities(weights, features, width)
        loss -= math.log(max(probs[label], 1e-12))
        for k in range(CLASSES):
            delta = (probs[k] - (1.0 if k == label else 0.0)) / len(batch)
            if delta:
                base = k * width
                for i in features:
                    gradient[base + i] += delta
    return gradient, loss / len(batch)


def evaluate(weights, examples, width):
    correct, loss = 0, 0.0
    for features, label in examples:
        probs = probabilities(weights, features, width)
        correct += max(range(CLASSES), key=probs.__getitem__) == label
        loss -= math.log(max(probs[label], 1e-12))
    return correct / float(len(examples)), loss / len(examples)


def run_worker(flags, ps_address, task_index, num_workers):
    train, width = load(flags.data_dir, 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz')
    shard = train[task_index::num_workers]
    rng = random.Random(task_index)
    log('Worker {0}: {1} training examples in my shard of {2}; parameter server {3}'.format(
        task_index, len(shard), len(train), ps_address))
    ps = PsClient(ps_address)
    global_step, done, weights = ps.pull()
    report_every = max(1, flags.train_steps // (num_workers * 10))
    history, window, local_step, order = [], [], 0, []
    start = time.time()
    log('Training begins @ {0:f}'.format(start))
    while not done:
        if len(order) < flags.batch_size:
            order = list(range(len(shard)))
            rng.shuffle(order)
        batch = [shard[order.pop()] for _ in range(flags.batch_size)]
        gradient, loss = minibatch_gradient(weights, batch, width)
        global_step, done, weights = ps.push(gradient, flags.learning_rate)
        local_step += 1
        window.append(loss)
        if local_step % report_every == 0 or done:
            mean = sum(window) / len(window)
            history.append((local_step, global_step, mean))
            window = []
            log('Worker {0}: training step {1} done (global step: {2}) loss: {3:.4f}'.format(
                task_index, local_step, global_step, mean))
    end = time.time()
    log('Training ends @ {0:f}'.format(end))
    print('Training elapsed time: {0:f} s'.format(end - start))
    ps.close()

    if flags.log_dir:
        os.makedirs(flags.log_dir, exist_ok=True)
        with open(os.path.join(flags.log_dir, 'worker-{0}-loss.csv'.format(task_index)), 'w') as f:
            f.write('local_step,global_step,loss\n')
            for row in history:
                f.write('{0},{1},{2:.6f}\n'.format(*row))
    if task_index == 0:
        test, _ = load(flags.data_dir, 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
        accuracy, cross_entropy = evaluate(weights, test, width)
        print('After {0} training step(s), validation cross entropy = {1:g}'.format(global_step, cross_entropy))
        print('Test accuracy: {0:.4f}'.format(accuracy))
        if flags.checkpoint_dir:
            os.makedirs(flags.checkpoint_dir, exist_ok=True)
            name = 'model.ckpt-{0}.json'.format(global_step)
            with open(os.path.join(flags.checkpoint_dir, name), 'w') as f:
                json.dump({'classes': CLASSES, 'features': width - 1, 'global_step': global_step,
                           'test_accuracy': accuracy, 'weights': list(weights)}, f)
            with open(os.path.join(flags.checkpoint_dir, 'checkpoint'), 'w') as f:
                f.write('model_checkpoint_path: "{0}"\n'.format(name))
            print('Model saved as {0} in the checkpoint directory'.format(name))
    sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--job_name', help='"ps" or "worker"')
    parser.add_argument('--task_index', type=int)
    parser.add_argument('--ps_hosts', help='comma-separated host:port list')
    parser.add_argument('--worker_hosts', help='comma-separated host:port list')
    parser.add_argument('--data_dir', default='/tmp/mnist-data')
    parser.add_argument('--checkpoint_dir')
    parser.add_argument('--log_dir')
    parser.add_argument('--train_steps', type=int, default=200)
    parser.add_argument('--batch_size', type=int, default=4)
    parser.add_argument('--learning_rate', type=float, default=0.1)
    parser.add_argument('--num_gpus', type=int, default=0, help='accepted for compatibility; unused')
    flags, unknown = parser.parse_known_args(argv)
    if unknown:
        print('Ignoring unknown arguments: {0}'.format(' '.join(unknown)))
    ps_hosts, worker_hosts, job_name, task_index = cluster_from(flags)
    log('job name = {0}, task index = {1}, ps hosts = {2}, worker hosts = {3}'.format(
        job_name, task_index, ','.join(ps_hosts), ','.join(worker_hosts)))
    if job_name == 'ps':
        _, width = load(flags.data_dir, 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')
        run_ps(ps_hosts[task_index], CLASSES * width, flags.train_steps)
    else:
        run_worker(flags, ps_hosts[0], task_index, len(worker_hosts))


if __name__ == '__main__':
    main()

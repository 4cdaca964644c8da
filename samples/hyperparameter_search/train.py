"""Train a softmax classifier on the MNIST-format dataset with plain SGD and print its accuracy.

The hyperparameters come from the command line (the job factory substitutes them there); the
last line, ``Final accuracy: <value>``, is the metric the sweep reads back from ``stdout.txt``.
"""

from __future__ import print_function

import argparse
import gzip
import math
import os
import random
import struct
import sys

CLASSES = 10


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, count = struct.unpack('>II', data[:8])
    if magic == 2049:
        return list(data[8:8 + count])
    rows, cols = struct.unpack('>II', data[8:16])
    size = rows * cols
    return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)]


def load(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, prefix + '-images-idx3-ubyte.gz'))
    labels = read_idx(os.path.join(data_dir, prefix + '-labels-idx1-ubyte.gz'))
    width = len(images[0])
    examples = [([i for i, p in enumerate(img) if p >= 128] + [width], label) for img, label in zip(images, labels)]
    return examples, width + 1


def predict(weights, features, width):
    logits = [sum(weights[k * width + i] for i in features) for k in range(CLASSES)]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data_dir', required=True)
    parser.add_argument('--learning_rate', type=float, required=True)
    parser.add_argument('--epochs', type=int, required=True)
    flags = parser.parse_args()
    train, width = load(flags.data_dir, 'train')
    test, _ = load(flags.data_dir, 't10k')
    weights = [0.0] * (CLASSES * width)
    rng = random.Random(0)
    print('learning rate {0:g}, {1} epoch(s), {2} training examples'.format(flags.learning_rate, flags.epochs,
                                                                           len(train)))
    for epoch in range(1, flags.epochs + 1):
        rng.shuffle(train)
        loss = 0.0
        for features, label in train:
            probs = predict(weights, features, width)
            loss -= math.log(max(probs[label], 1e-12))
            for k in range(CLASSES):
                step = flags.learning_rate * (probs[k] - (k == label))
                for i in features:
                    weights[k * width + i] -= step
        print('Epoch {0}: training loss {1:.4f}'.format(epoch, loss / len(train)))
    correct = 0
    for features, label in test:
        probs = predict(weights, features, width)
        correct += max(range(CLASSES), key=probs.__getitem__) == label
    print('Final accuracy: {0:.4f}'.format(correct / float(len(test))))
    return 0


if __name__ == '__main__':
    sys.exit(main())

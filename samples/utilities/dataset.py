"""Datasets for the samples, as the recipes' ``utilities.dataset`` offered them.

The recipes downloaded MNIST from a public blob and uploaded it into the user's container. The
samples must run offline, so ``download_and_upload_mnist_dataset_to_blob`` *generates* an
MNIST-shaped dataset instead: 8x8 images of the ten digits (drawn from a small bitmap font, shifted
and sprinkled with noise), stored in the real MNIST IDX format under the real MNIST file names, then
uploaded exactly as before. Same seed, same bytes, every run.
"""

from __future__ import print_function

import gzip
import os
import random
import shutil
import struct
import tempfile

import requests

IMAGE_SIDE = 8
TRAIN_IMAGES = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS = 'train-labels-idx1-ubyte.gz'
TEST_IMAGES = 't10k-images-idx3-ubyte.gz'
TEST_LABELS = 't10k-labels-idx1-ubyte.gz'
MNIST_FILES = [TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS]

# 5x7 glyphs of the ten digits.
_FONT = [
    ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
    ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
    ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
    ['####.', '....#', '....#', '.###.', '....#', '....#', '####.'],
    ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
    ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
    ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
    ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
    ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
    ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
]


def download_file(sas, destination):
    """Download ``sas`` (any URL, e.g. a ``File.download_url``) into the local file ``destination``."""
    dir_name = os.path.dirname(destination)
    if dir_name and not os.path.isdir(dir_name):
        os.makedirs(dir_name)
    print('Downloading {0} ...'.format(sas), end='')
    response = requests.get(sas, stream=True)
    response.raise_for_status()
    with open(destination, 'wb') as f:
        for chunk in response.iter_content(chunk_size=512 * 1024):
            f.write(chunk)
    print('Done')


def _digit_image(digit, rng, noise=0.03):
    """One 8x8 image (row-major bytes, 0 or 255) of ``digit``."""
    pixels = bytearray(IMAGE_SIDE * IMAGE_SIDE)
    dx, dy = rng.randint(0, IMAGE_SIDE - 5), rng.randint(0, IMAGE_SIDE - 7)
    for y, row in enumerate(_FONT[digit]):
        for x, mark in enumerate(row):
            if mark == '#':
                pixels[(y + dy) * IMAGE_SIDE + x + dx] = 255
    for i in range(len(pixels)):
        if rng.random() < noise:
            pixels[i] = 255 - pixels[i]
    return bytes(pixels)


def _write_idx(directory, images_name, labels_name, count, rng):
    labels = bytes(rng.randrange(10) for _ in range(count))
    with gzip.GzipFile(os.path.join(directory, images_name), 'wb', mtime=0) as f:
        f.write(struct.pack('>IIII', 2051, count, IMAGE_SIDE, IMAGE_SIDE))
        for label in labels:
            f.write(_digit_image(label, rng))
    with gzip.GzipFile(os.path.join(directory, labels_name), 'wb', mtime=0) as f:
        f.write(struct.pack('>II', 2049, count))
        f.write(labels)


def generate_mnist_dataset(directory, train_count=2000, test_count=500, seed=2018):
    """Write the four MNIST IDX files of a synthetic digit dataset into ``directory``."""
    rng = random.Random(seed)
    _write_idx(directory, TRAIN_IMAGES, TRAIN_LABELS, train_count, rng)
    _write_idx(directory, TEST_IMAGES, TEST_LABELS, test_count, rng)
    return [os.path.join(directory, name) for name in MNIST_FILES]


def download_and_upload_mnist_dataset_to_blob(blob_service, azure_blob_container_name, mnist_dataset_directory):
    """Prepare the MNIST-shaped dataset and upload it to ``<container>/<mnist_dataset_directory>/``."""
    local_dir = tempfile.mkdtemp(prefix='mnist_dataset_')
    try:
        print('Generating MNIST-format dataset (offline stand-in for the MNIST download)...')
        generate_mnist_dataset(local_dir)
        print('Uploading MNIST dataset...')
        for name in MNIST_FILES:
            blob_service.create_blob_from_path(azure_blob_container_name, mnist_dataset_directory + '/' + name,
                                               os.path.join(local_dir, name))
    finally:
        shutil.rmtree(local_dir, ignore_errors=True)
    print('Done')


def upload_mnist_dataset_to_file_share(file_service, share_name, mnist_dataset_directory):
    """The same dataset, uploaded to ``<share>/<mnist_dataset_directory>/`` of an Azure File share."""
    local_dir = tempfile.mkdtemp(prefix='mnist_dataset_')
    try:
        generate_mnist_dataset(local_dir)
        file_service.create_directory(share_name, mnist_dataset_directory, fail_on_exist=False)
        for name in MNIST_FILES:
            file_service.create_file_from_path(share_name, mnist_dataset_directory, name,
                                               os.path.join(local_dir, name))
    finally:
        shutil.rmtree(local_dir, ignore_errors=True)

"""Count the words of a text file, skipping the stop words job preparation installed; print the top
N (``$TOP_WORDS``) and write all counts as JSON into the output directory."""

from __future__ import print_function

import argparse
import collections
import json
import os
import re
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--input', required=True)
    parser.add_argument('--output', required=True)
    flags = parser.parse_args()

    stopwords_path = os.path.join(os.environ['AZ_BATCHAI_JOB_TEMP'], 'stopwords.txt')
    if not os.path.exists(stopwords_path):
        print('job preparation did not run: {0} is missing'.format(stopwords_path), file=sys.stderr)
        return 2
    with open(stopwords_path) as f:
        stopwords = set(f.read().split())
    with open(flags.input) as f:
        words = [w for w in re.findall(r"[a-z']+", f.read().lower()) if w not in stopwords]
    counts = collections.Counter(words)
    top = int(os.environ.get('TOP_WORDS', '5'))
    print('Read {0} words ({1} distinct) from {2}'.format(len(words), len(counts), os.path.basename(flags.input)))
    for word, count in counts.most_common(top):
        print('{0:>12} {1}'.format(word, count))
    with open(os.path.join(flags.output, 'counts.json'), 'w') as f:
        json.dump(dict(counts.most_common()), f, indent=1)
    print('Wrote counts.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())

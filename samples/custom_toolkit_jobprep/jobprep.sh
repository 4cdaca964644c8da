#!/bin/bash
# Job preparation: runs on every node of the job before the command line, with the job's
# environment. The recipes installed packages here; this one builds the "dependency" the job needs
# (a stop-word list) in the node's job temp directory, and fails the job if its inputs are missing.
set -e
echo "Preparing node for job (temp dir: $AZ_BATCHAI_JOB_TEMP)"
test -f "$AZ_BATCHAI_INPUT_DATA/corpus.txt" || { echo "corpus.txt is missing" >&2; exit 3; }
printf '%s\n' the a an and of to in is it that for on with as by be are was this from or at \
    > "$AZ_BATCHAI_JOB_TEMP/stopwords.txt"
echo "Installed $(wc -l < "$AZ_BATCHAI_JOB_TEMP/stopwords.txt") stop words"

"""Waiting for jobs, tailing their output and reading metrics, as the recipes' ``utilities.job`` did.

Output is read the way the Batch AI notebooks read it: ``jobs.list_output_files`` gives each file a
``download_url``, and the file is fetched over HTTP, ``Range: bytes=<already read>-`` for a tail.
"""

from __future__ import print_function

import codecs
import re
import sys
import time

import batchai_compat.models as models
import requests

from .cluster import print_cluster_status

POLLING_INTERVAL_SEC = 1
TAIL_INTERVAL_SEC = 1
FINAL_STATES = (models.ExecutionState.succeeded, models.ExecutionState.failed)


class OutputStreamer(object):
    """``tail -f`` of one output file of a job, through its ``download_url``."""

    def __init__(self, client, resource_group, workspace_name, experiment_name, job_name,
                 output_directory_id, file_name):
        self.client = client
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.experiment_name = experiment_name
        self.job_name = job_name
        self.output_directory_id = output_directory_id
        self.file_name = file_name
        self.url = None
        self.downloaded = 0
        self._decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')

    def _find_url(self):
        files = self.client.jobs.list_output_files(
            self.resource_group, self.workspace_name, self.experiment_name, self.job_name,
            models.JobsListOutputFilesOptions(outputdirectoryid=self.output_directory_id))
        for f in files:
            if f.name == self.file_name:
                return f.download_url
        return None

    def tail(self):
        """Print whatever was appended to the file since the last call."""
        if self.output_directory_id is None or self.file_name is None:
            return
        if not self.url:
            self.url = self._find_url()
            if not self.url:
                return
        response = requests.get(self.url, headers={'Range': 'bytes={0}-'.format(self.downloaded)})
        if response.status_code // 100 == 2 and response.content:
            self.downloaded += len(response.content)
            print(self._decoder.decode(response.content), end='')
            sys.stdout.flush()


def print_job_status(job):
    """``Job state: <state> ExitCode: <code>``, plus the errors of a failed job."""
    exit_code = job.execution_info.exit_code if job.execution_info is not None else None
    print('Job state: {0} ExitCode: {1}'.format(job.execution_state, exit_code))
    if job.execution_state == models.ExecutionState.failed and job.execution_info is not None:
        for error in job.execution_info.errors or []:
            print('FailureDetails: ErrorCode: {0} ErrorMessage: {1}'.format(error.code, error.message))
            for detail in error.details or []:
                print('  {0}: {1}'.format(detail.name, detail.value))


def wait_for_job_completion(client, resource_group, workspace_name, experiment_name, job_name, cluster_name,
                            output_directory_id=None, file_name=None):
    """Print the cluster and job status until the job starts, then tail ``file_name`` of
    ``output_directory_id`` until the job succeeds or fails."""
    while True:
        cluster = client.clusters.get(resource_group, workspace_name, cluster_name)
        print_cluster_status(cluster)
        job = client.jobs.get(resource_group, workspace_name, experiment_name, job_name)
        print_job_status(job)
        if job.execution_state != models.ExecutionState.queued:
            break
        time.sleep(POLLING_INTERVAL_SEC)

    print('Waiting for job output to become available...')
    streamer = OutputStreamer(client, resource_group, workspace_name, experiment_name, job_name,
                              output_directory_id, file_name)
    state = job.execution_state
    while True:
        streamer.tail()
        job = client.jobs.get(resource_group, workspace_name, experiment_name, job_name)
        if job.execution_state in FINAL_STATES:
            break
        if job.execution_state != state:
            state = job.execution_state
            print_job_status(job)
        time.sleep(TAIL_INTERVAL_SEC)
    streamer.tail()
    print_job_status(job)
    return job


class MetricExtractor(object):
    """Reads a metric from a job's output file with a regular expression.

    ``calculate_method`` aggregates all matches: ``last`` (default), ``mean``, ``min`` or ``max``.
    """

    def __init__(self, output_dir_id, logfile, regex, calculate_method='last'):
        self.output_dir_id = output_dir_id
        self.logfile = logfile
        self.regex = regex
        self.calculate_method = calculate_method

    def get_metric(self, job_name, resource_group, workspace_name, experiment_name, client):
        files = client.jobs.list_output_files(resource_group, workspace_name, experiment_name, job_name,
                                              models.JobsListOutputFilesOptions(outputdirectoryid=self.output_dir_id))
        for f in files:
            if f.name != self.logfile:
                continue
            response = requests.get(f.download_url)
            response.raise_for_status()
            values = [float(v) for v in re.findall(self.regex, response.content.decode('utf-8'), re.DOTALL)]
            if not values:
                break
            if self.calculate_method == 'mean':
                return sum(values) / len(values)
            if self.calculate_method == 'min':
                return min(values)
            if self.calculate_method == 'max':
                return max(values)
            return values[-1]
        return float('inf')

"""Submitting, waiting for and cleaning up many jobs of one experiment (the recipes'
``utilities.experiment.ExperimentUtils``, used by the hyperparameter-search notebooks)."""

from __future__ import print_function

import collections
import concurrent.futures
import hashlib
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor

import batchai_compat.models as models
from msrestazure.azure_exceptions import CloudError
from msrestazure.polling.arm_polling import ARMPolling

NUM_THREADS = 8
NUM_RETRIES = 3
RETRY_WAIT_SECS = 2
WAIT_POLL_SECS = 1
JOB_NAME_HASH_LENGTH = 16

JobToSubmit = collections.namedtuple('JobToSubmit', ['name', 'parameters'])


class CustomPolling(ARMPolling):
    """ARM polling that checks once a second instead of honouring ``Retry-After`` (30 s)."""

    def _delay(self):
        if self._response is None:
            return
        time.sleep(1)


class ExperimentUtils(object):
    def __init__(self, client, resource_group_name, workspace_name, experiment_name, log_to_stdout=True):
        self.client = client
        self.resource_group_name = resource_group_name
        self.workspace_name = workspace_name
        self.experiment_name = experiment_name
        self.client.experiments.get(resource_group_name, workspace_name, experiment_name)  # must exist
        self.logger = logging.getLogger('ExperimentUtils')
        if log_to_stdout:
            self.logger.setLevel(logging.INFO)
            self.logger.handlers = [logging.StreamHandler()]
        self.logger.info('Initialized ExperimentUtils for resource group {0} | workspace {1} | experiment {2}'.format(
            resource_group_name, workspace_name, experiment_name))

    # -- submission ------------------------------------------------------------------------------
    def submit_jobs(self, jcp_list, job_name_prefix, max_retries=NUM_RETRIES, num_threads=NUM_THREADS):
        """Submit one job per ``JobCreateParameters`` from a thread pool; named ``<prefix>_<hash>``.

        Returns a ``concurrent.futures.Future``; ``.result()`` is the list of created ``Job`` objects.
        """
        jobs = [JobToSubmit(name='{0}_{1}'.format(job_name_prefix, self._hash_jcp(jcp)), parameters=jcp)
                for jcp in jcp_list]
        executor = ThreadPoolExecutor(max_workers=1)
        future = executor.submit(self._submit_jobs_threadpool, jobs, max_retries, num_threads)
        executor.shutdown(wait=False)
        return future

    def _submit_jobs_threadpool(self, jobs, max_retries, num_threads):
        created = []
        attempts_left = max_retries + 1
        with ThreadPoolExecutor(max_workers=num_threads) as executor:
            while jobs and attempts_left > 0:
                futures = {executor.submit(self._submit_job, job.name, job.parameters): job for job in jobs}
                jobs = []
                for future in concurrent.futures.as_completed(futures):
                    try:
                        created.append(future.result())
                    except CloudError as error:
                        if error.status_code is None or error.status_code < 500:
                            self.logger.error('Error: %s', error)
                            raise
                        job = futures[future]
                        print('Job {0} failed to submit. Retrying ({1} attempts remaining)...'.format(
                            job.name, attempts_left - 1))
                        jobs.append(job)
                attempts_left -= 1
                if jobs and attempts_left > 0:
                    time.sleep(RETRY_WAIT_SECS)
        if jobs:
            print('{0} jobs failed to submit.'.format(len(jobs)))
        return created

    def _submit_job(self, job_name, jcp):
        job = self.client.jobs.create(self.resource_group_name, self.workspace_name, self.experiment_name,
                                      job_name, jcp, polling=CustomPolling()).result()
        parameters = {ev.name: ev.value for ev in job.environment_variables or []}
        self.logger.info('Created job "{0}" with parameters {1}'.format(
            job.name, json.dumps(parameters, sort_keys=True)))
        return job

    @staticmethod
    def _hash_jcp(jcp, length=JOB_NAME_HASH_LENGTH):
        text = json.dumps(jcp.serialize(), sort_keys=True)
        return hashlib.sha1(text.encode('utf-8')).hexdigest()[:length]

    # -- waiting ---------------------------------------------------------------------------------
    def _jobs(self, job_names=None):
        jobs = list(self.client.jobs.list_by_experiment(self.resource_group_name, self.workspace_name,
                                                        self.experiment_name))
        return [j for j in jobs if j.name in job_names] if job_names else jobs

    @staticmethod
    def _count(jobs, state):
        return len([j for j in jobs if j.execution_state == state])

    def wait_all_jobs(self, job_names=None, on_progress=None):
        """Block until every job (of ``job_names``, or of the experiment) succeeded or failed."""
        last = None
        while True:
            jobs = self._jobs(job_names)
            succeeded = self._count(jobs, models.ExecutionState.succeeded)
            failed = self._count(jobs, models.ExecutionState.failed)
            progress = '{0}/{1} jobs completed ({2} succeeded, {3} failed)'.format(
                succeeded + failed, len(jobs), succeeded, failed)
            if progress != last:
                print(progress)
                last = progress
            if on_progress:
                on_progress(jobs)
            if succeeded + failed == len(jobs):
                break
            time.sleep(WAIT_POLL_SECS)
        print('All jobs completed.')
        return jobs

    def get_metrics_for_jobs(self, jobs, metric_extractor, on_progress=None):
        """Wait for ``jobs``, then read ``metric_extractor``'s metric from each."""
        self.wait_all_jobs(job_names=[j.name for j in jobs], on_progress=on_progress)
        results = []
        for index, job in enumerate(jobs):
            metric = metric_extractor.get_metric(job.name, self.resource_group_name, self.workspace_name,
                                                 self.experiment_name, self.client)
            results.append({'name': job.name, 'metric_value': metric, 'index': index})
        return results

    def get_parameters_of_job(self, job_name):
        job = self.client.jobs.get(self.resource_group_name, self.workspace_name, self.experiment_name, job_name)
        return {ev.name: ev.value for ev in job.environment_variables or []}

    def list_stdouterr_files(self, job_name):
        files = self.client.jobs.list_output_files(
            self.resource_group_name, self.workspace_name, self.experiment_name, job_name,
            models.JobsListOutputFilesOptions(outputdirectoryid='stdouterr'))
        for index, f in enumerate(files):
            print('File {0}: {1} | Download: {2}'.format(index + 1, f.name, f.download_url))

    # -- clean-up --------------------------------------------------------------------------------
    def delete_jobs_in_experiment(self, execution_state=None, job_names=None, job_name_regex=None,
                                  num_threads=NUM_THREADS):
        jobs = self._jobs(job_names)
        if execution_state:
            jobs = [j for j in jobs if j.execution_state == execution_state]
        if job_name_regex:
            jobs = [j for j in jobs if re.match(job_name_regex, j.name)]
        if not jobs:
            print('There are no jobs to delete in the experiment {0}.'.format(self.experiment_name))
            return
        with ThreadPoolExecutor(max_workers=num_threads) as executor:
            for future in [executor.submit(self._delete_job, j.name) for j in jobs]:
                future.result()
        print('{0} jobs in experiment {1} were deleted.'.format(len(jobs), self.experiment_name))

    def _delete_job(self, job_name):
        self.client.jobs.delete(self.resource_group_name, self.workspace_name, self.experiment_name, job_name,
                                polling=CustomPolling()).result()
        print('Deleted Job: {0}'.format(job_name))

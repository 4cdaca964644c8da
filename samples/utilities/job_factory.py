"""Parameter sweeps: many ``JobCreateParameters`` from one template (the recipes'
``utilities.job_factory``, used by the hyperparameter-search notebooks).

A ``ParameterSweep`` exposes one placeholder per parameter (``sweep['LEARNING_RATE']`` formats as
``{{LEARNING_RATE}}``). Put placeholders in any string of a ``JobCreateParameters``;
``generate_jobs`` returns one deep copy per combination with the placeholders replaced and the
combination also set as the job's environment variables.
"""

from __future__ import print_function

import copy
import itertools
import math
import random
import re

import batchai_compat.models as models
from msrest.serialization import Model


class Substitution(object):
    def __init__(self, parameter_name):
        self.parameter_name = parameter_name

    @staticmethod
    def convert_name(parameter_name):
        return '{{' + parameter_name + '}}'

    def __str__(self):
        return self.convert_name(self.parameter_name)

    __repr__ = __str__

    def __format__(self, spec):
        return format(str(self), spec)


class ParamSpec(object):
    def __init__(self, parameter_name):
        if not re.match(r'^[A-Z_][A-Z0-9_]*$', parameter_name):
            raise ValueError('Invalid parameter name {0}: use upper-case letters, digits and '
                             'underscores'.format(parameter_name))
        self.parameter_name = parameter_name
        self.values = []

    def get_random(self, rng=random):
        return rng.choice(self.values)


class DiscreteParamSpec(ParamSpec):
    def __init__(self, parameter_name, values):
        super(DiscreteParamSpec, self).__init__(parameter_name)
        for value in values:
            if not isinstance(value, (int, float, str)):
                raise ValueError('Values must be string, int, or float.')
        self.values = list(values)


class NumParamSpec(ParamSpec):
    """Numbers from ``start`` to ``end`` (inclusive), ``LINEAR`` (``step`` or ``num_values``) or
    ``LOG`` (``num_values``); ``data_type`` ``INTEGER`` rounds them."""

    def __init__(self, parameter_name, data_type, start, end, scale, num_values=None, step=None):
        super(NumParamSpec, self).__init__(parameter_name)
        if start >= end:
            raise ValueError('End value must be greater than start value')
        if scale not in ('LINEAR', 'LOG') or data_type not in ('INTEGER', 'REAL'):
            raise ValueError('scale must be LINEAR or LOG and data_type INTEGER or REAL')
        self.data_type, self.start, self.end, self.scale = data_type, start, end, scale
        if scale == 'LINEAR' and step:
            count = int(math.floor((end - start) / float(step) + 1e-9)) + 1
            values = [start + i * step for i in range(count)]
        elif scale == 'LINEAR' and num_values:
            values = [start + (end - start) * i / float(num_values - 1) for i in range(num_values)]
        elif scale == 'LOG' and num_values:
            ratio = math.log(end / float(start))
            values = [start * math.exp(ratio * i / float(num_values - 1)) for i in range(num_values)]
        else:
            raise ValueError('Give step (LINEAR) or num_values (LINEAR or LOG)')
        # 10 significant digits: 0.01, not 0.010000000000000002, in command lines and job names
        if data_type == 'INTEGER':
            self.values = [int(round(v)) for v in values]
        else:
            self.values = [float('%.10g' % v) for v in values]

    def get_random(self, rng=random):
        if self.scale == 'LOG':
            value = math.exp(rng.uniform(math.log(self.start), math.log(self.end)))
        else:
            value = rng.uniform(self.start, self.end)
        return int(round(value)) if self.data_type == 'INTEGER' else value


def _substitute(value, replacements):
    if isinstance(value, str):
        for placeholder, replacement in replacements.items():
            value = value.replace(placeholder, replacement)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, Model):
        for attribute in value._attribute_map:
            setattr(value, attribute, _substitute(getattr(value, attribute, None), replacements))
        return value
    return value


class ParameterSweep(object):
    def __init__(self, param_specs):
        if not param_specs:
            raise ValueError('No params in ParameterSweep')
        self.param_specs = list(param_specs)
        for spec in self.param_specs:
            setattr(self, spec.parameter_name, Substitution(spec.parameter_name))

    def __getitem__(self, key):
        return getattr(self, key)

    def _combinations(self, num_jobs=None, seed=None):
        if num_jobs:
            rng = random.Random(seed)
            return [[spec.get_random(rng) for spec in self.param_specs] for _ in range(num_jobs)]
        return list(itertools.product(*[spec.values for spec in self.param_specs]))

    def generate_jobs(self, job_create_parameters):
        """One ``JobCreateParameters`` per combination of all values (a grid search)."""
        return self._generate_jobs(job_create_parameters)

    def generate_jobs_random_search(self, job_create_parameters, num_jobs, seed=None):
        """``num_jobs`` ``JobCreateParameters`` with values drawn at random."""
        return self._generate_jobs(job_create_parameters, num_jobs, seed)

    def _generate_jobs(self, job_create_parameters, num_jobs=None, seed=None):
        jcps = []
        for combination in self._combinations(num_jobs, seed):
            values = dict(zip([spec.parameter_name for spec in self.param_specs], combination))
            jcp = _substitute(copy.deepcopy(job_create_parameters),
                              {Substitution.convert_name(name): str(value) for name, value in values.items()})
            jcp.environment_variables = list(jcp.environment_variables or []) + [
                models.EnvironmentVariable(name=name, value=str(value)) for name, value in values.items()]
            jcps.append(jcp)
        return jcps

"""Cluster status printing, as the recipes' ``utilities.cluster`` did it."""

from __future__ import print_function


def _target_nodes(cluster):
    scale = cluster.scale_settings
    if scale is None:
        return None
    if scale.manual is not None:
        return scale.manual.target_node_count
    if scale.auto_scale is not None:
        return '{0}..{1}'.format(scale.auto_scale.minimum_node_count, scale.auto_scale.maximum_node_count)
    return None


def print_cluster_status(cluster):
    """One line with the allocation state and the node counts, then the cluster's errors, if any."""
    counts = cluster.node_state_counts
    print('Cluster state: {0} Target: {1}; Allocated: {2}; Idle: {3}; Unusable: {4}; Running: {5}; '
          'Preparing: {6}; Leaving: {7}'.format(
              cluster.allocation_state, _target_nodes(cluster), cluster.current_node_count,
              counts.idle_node_count, counts.unusable_node_count, counts.running_node_count,
              counts.preparing_node_count, counts.leaving_node_count))
    for error in cluster.errors or []:
        print('Cluster error: {0}: {1}'.format(error.code, error.message))
        for detail in error.details or []:
            print('  {0}: {1}'.format(detail.name, detail.value))

"""Workloads: jobs as columnar data, readers and writers, generators."""

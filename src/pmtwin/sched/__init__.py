"""pmtwin.sched: Slurm-mode scheduling data (docs/slurm-scheduling.md); QOS tables."""

from pmtwin.sched.qos import Qos, QosTable, list_qos_tables, load_qos

__all__ = ["Qos", "QosTable", "list_qos_tables", "load_qos"]

"""pmtwin.machine: devices, node types, partitions, node ids and cabinets; headline figures.

>>> machine = load_system("perlmutter")
>>> [pool.name for pool in machine.pools()]
['gpu', 'gpu:hbm80g', 'cpu']
>>> machine.pools()[machine.pool_for("gpu", "gpu&hbm80g")].name
'gpu:hbm80g'
"""

from pmtwin.machine.devices import CpuSpec, DeviceCatalog, GpuSpec, load_devices
from pmtwin.machine.errors import MachineConfigError
from pmtwin.machine.loader import list_systems, load_system
from pmtwin.machine.render import render_machine
from pmtwin.machine.summary import machine_summary, peak_flops
from pmtwin.machine.system import Machine, NodeType, Partition, Pool

__all__ = [
    "CpuSpec",
    "DeviceCatalog",
    "GpuSpec",
    "Machine",
    "MachineConfigError",
    "NodeType",
    "Partition",
    "Pool",
    "list_systems",
    "load_devices",
    "load_system",
    "machine_summary",
    "peak_flops",
    "render_machine",
]

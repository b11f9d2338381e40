"""A pmtwin machine from a slurm.conf: hostlists, syntax, node types, partitions, errors, TOML and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from pmtwin.cli.main import app
from pmtwin.machine import Machine, MachineConfigError, load_system, peak_flops
from pmtwin.machine.slurm_conf import SlurmImport, expand_hostlist, machine_from_slurm_conf, system_toml
from tests.conftest import shared_dir

runner = CliRunner()

PERLMUTTER_LIKE = """\
ClusterName=perlmutter-like
# 1,536 GPU nodes (40 GB A100), 256 GPU nodes (80 GB A100), 3,072 CPU nodes
NodeName=DEFAULT Sockets=1 CoresPerSocket=64 ThreadsPerCore=2 RealMemory=262144
NodeName=nid[001000-002535] Gres=gpu:4 Features=gpu,hbm40g   # untyped Gres
NodeName=nid[002536-002791] Gres=gpu:a100:4 \\
    Features=gpu,hbm80g Weight=10
NodeName=nid[004000-007071] Sockets=2 RealMemory=524288 Features=cpu
PartitionName=DEFAULT State=UP MaxTime=12:00:00
PartitionName=gpu Nodes=nid[001000-002791] MaxNodes=1536 MaxTime=2-00:00:00
PartitionName=cpu Nodes=nid[004000-007071] Default=YES
PartitionName=debug Nodes=ALL MaxTime=30 MaxNodes=8
"""

GOOD_PARTITION = "PartitionName=p Nodes=ALL\n"


@pytest.fixture(scope="module")
def edison_conf() -> Path:
    return shared_dir() / "data" / "nersc-edison-2015" / "slurm.conf.edison.regular"


def write(tmp_path: Path, text: str, name: str = "slurm.conf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported(tmp_path: Path, text: str) -> SlurmImport:
    return machine_from_slurm_conf(write(tmp_path, text))


def import_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(MachineConfigError) as info:
        machine_from_slurm_conf(path)
    assert info.value.__cause__ is None
    assert str(info.value).startswith(f"{path}")
    return str(info.value)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- hostlists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("nid[00001-00003,00200]", ["nid00001", "nid00002", "nid00003", "nid00200"]),
        ("a[1-2]b[3-4]", ["a1b3", "a1b4", "a2b3", "a2b4"]),
        ("n1,n[3-5]", ["n1", "n3", "n4", "n5"]),
        ("n[8-10]", ["n8", "n9", "n10"]),
        ("n[098-101]", ["n098", "n099", "n100", "n101"]),
        ("[1-2]x,login", ["1x", "2x", "login"]),
        ("c[1,1]", ["c1", "c1"]),
    ],
)
def test_expand_hostlist(text: str, names: list[str]) -> None:
    assert expand_hostlist(text) == names


def test_expand_a_large_padded_range() -> None:
    names = expand_hostlist("nid[001000-002535]")
    assert (len(names), names[0], names[-1]) == (1536, "nid001000", "nid002535")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty hostlist"),
        ("n[1-3", "hostlist 'n[1-3': '[' at position 2 is never closed"),
        ("n]", "']' at position 2 without '['"),
        ("n[1[2]]", "'[' at position 4 inside brackets"),
        ("n[]", "brackets at position 2 are empty"),
        ("n[1-]", "brackets at position 2: '1-' is not a number or a range like 1-8"),
        ("a[1-2]b[x]", "brackets at position 8: 'x' is not a number"),
        ("n[3-1]", "range '3-1' runs backwards"),
        ("n[1-05]", "range '1-05' pads its ends to different widths"),
        ("a,,b", "empty name at position 3"),
        ("n 1", "whitespace at position 2"),
        ("n[1-99999999]", "expands to more than 1,000,000 names"),
        ("a[1-1000]b[1-1000]c[1-1000]", "expands to more than 1,000,000 names"),
    ],
)
def test_expand_hostlist_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        expand_hostlist(text)
    assert message in str(info.value)


Host = tuple[str, int, int]
"""(prefix, number, digits): the name prefix + the number zero-padded to exactly ``digits`` digits."""

hosts = st.lists(
    st.tuples(st.sampled_from(["", "n", "nid", "gpu-", "a1b"]), st.integers(1, 4)).flatmap(
        lambda prefix_digits: st.tuples(
            st.just(prefix_digits[0]), st.integers(0, 10 ** prefix_digits[1] - 1), st.just(prefix_digits[1])
        )
    ),
    min_size=1,
    max_size=40,
)


def collapse(names: list[Host]) -> str:
    """A hostlist for ``names`` in order: runs of one prefix and width share brackets, +1 steps a range."""
    items: list[str] = []
    index = 0
    while index < len(names):
        prefix, _, digits = names[index]
        end = index
        while end + 1 < len(names) and names[end + 1][::2] == (prefix, digits):
            end += 1
        ranges: list[list[int]] = []
        for _, number, _ in names[index : end + 1]:
            if ranges and number == ranges[-1][1] + 1:
                ranges[-1][1] = number
            else:
                ranges.append([number, number])
        text = ",".join(f"{lo:0{digits}d}" + (f"-{hi:0{digits}d}" if hi > lo else "") for lo, hi in ranges)
        items.append(f"{prefix}[{text}]")
        index = end + 1
    return ",".join(items)


@given(hosts)
def test_hostlist_round_trip(names: list[Host]) -> None:
    expected = [f"{prefix}{number:0{digits}d}" for prefix, number, digits in names]
    assert expand_hostlist(collapse(names)) == expected
    assert expand_hostlist(",".join(expected)) == expected


@given(st.lists(st.integers(0, 50), min_size=1, max_size=4), st.lists(st.integers(0, 3), min_size=1))
def test_several_groups_expand_first_slowest(first: list[int], second: list[int]) -> None:
    text = f"r[{','.join(map(str, first))}]s[{','.join(map(str, second))}]"
    assert expand_hostlist(text) == [f"r{a}s{b}" for a in first for b in second]


# -- the Edison configuration ---------------------------------------------------------------------


def test_edison_imports_as_one_cpu_node_type(edison_conf: Path) -> None:
    result = machine_from_slurm_conf(edison_conf)
    machine = result.machine
    assert machine.name == "perfdevel"  # its ClusterName line
    assert machine.node_count == 5576  # the sum of the 42 ranges of the NodeName line
    (node_type,) = machine.node_types
    assert (node_type.name, node_type.count, node_type.cpus_per_node) == ("nid", 5576, 2)
    assert node_type.gpu is None and node_type.features == ()
    assert node_type.ddr_gb == 64523 / 1024 == 63.0107421875
    cpu = machine.cpu_spec(node_type)
    assert (node_type.cpu, cpu.cores, cpu.threads) == ("generic-12c-12t", 12, 12)  # 24 cores per node
    assert machine.extra_devices.cpu == {"generic-12c-12t": cpu}
    assert machine.partition_node_counts() == {"main": 5576}
    assert [(p.name, p.first_node_id, p.node_count) for p in machine.pools()] == [("main", 0, 5576)]
    assert machine.partitions["main"].max_time_s is None and machine.partitions["main"].max_nodes is None
    assert machine.partitions["main"].description.endswith("line 104, the default partition")
    assert machine.source == f"{edison_conf}: NodeName line 102; PartitionName line 104"
    assert node_type.source == f"{edison_conf}: NodeName line 102"
    assert len(result.notes) == 1 and "placeholder CPU 'generic-12c-12t'" in result.notes[0]


def test_edison_without_its_nodename_line_says_so(edison_conf: Path, tmp_path: Path) -> None:
    lines = edison_conf.read_text().splitlines()
    assert lines[101].startswith("NodeName=")
    lines[101] = "#" + lines[101]
    message = import_error(tmp_path, "\n".join(lines))
    assert "no active NodeName line (commented-out lines do not count)" in message


def test_edison_round_trips_through_toml(edison_conf: Path, tmp_path: Path) -> None:
    result = machine_from_slurm_conf(edison_conf, name="edison")
    path = write(tmp_path, system_toml(result), "edison.toml")
    assert load_system(str(path)) == result.machine
    assert "# note: node type 'nid': no catalog CPU has 12 cores" in path.read_text()


# -- a Perlmutter-like configuration --------------------------------------------------------------


def test_perlmutter_like_configuration(tmp_path: Path, perlmutter: Machine) -> None:
    result = imported(tmp_path, PERLMUTTER_LIKE)
    machine = result.machine
    assert machine.name == "perlmutter-like"
    types = machine.node_types
    assert [(t.name, t.count, t.cpu, t.cpus_per_node, t.gpu, t.gpus_per_node, t.ddr_gb) for t in types] == [
        ("gpu-hbm40g", 1536, "EPYC-7763", 1, "A100-SXM4-40GB", 4, 256.0),
        ("gpu-hbm80g", 256, "EPYC-7763", 1, "A100-SXM4-80GB", 4, 256.0),
        ("cpu", 3072, "EPYC-7763", 2, None, 0, 512.0),
    ]  # fmt: skip
    assert [(p.name, p.first_node_id, p.node_count) for p in machine.pools()] == [
        ("gpu", 0, 1536), ("gpu:hbm80g", 1536, 256), ("cpu", 1792, 3072),
    ]  # fmt: skip
    assert machine.pools()[machine.pool_for("gpu", "gpu&hbm80g")].name == "gpu:hbm80g"
    gpu, cpu = machine.partitions["gpu"], machine.partitions["cpu"]
    assert (gpu.max_time_s, gpu.max_nodes) == (2 * 86400, 1536)
    assert (cpu.max_time_s, cpu.max_nodes) == (12 * 3600, None)  # MaxTime from PartitionName=DEFAULT
    assert list(machine.partitions) == ["gpu", "cpu"]  # debug: all its nodes are in gpu or cpu
    assert machine.extra_devices.cpu == {} and machine.extra_devices.gpu == {}
    # 1,792 GPU nodes x 4 A100 x 9.7 TFLOP/s = 69.5296 PFLOP/s, as for the packaged perlmutter
    assert peak_flops(machine)["gpu_fp64_pflops"] == peak_flops(perlmutter)["gpu_fp64_pflops"] == 69.5296
    assert peak_flops(machine)["gpu_count"] == 7168
    notes = "\n".join(result.notes)
    assert "slurm.conf:11: partition 'debug' lists nodes already in an earlier partition (1,792 in 'gpu', " \
           "3,072 in 'cpu')" in notes
    assert "slurm.conf:11: partition 'debug' has no nodes of its own; dropped" in notes
    assert "GPU taken as A100-SXM4-40GB, the first catalog GPU for an untyped Gres and memory 40 GB" in notes
    assert "GPU taken as A100-SXM4-80GB, the first catalog GPU for Gres type 'a100' and memory 80 GB" in notes


def test_perlmutter_like_round_trips_through_toml(tmp_path: Path) -> None:
    result = imported(tmp_path, PERLMUTTER_LIKE)
    path = write(tmp_path, system_toml(result), "pm.toml")
    assert load_system(str(path)) == result.machine
    assert "extra_devices" not in path.read_text()


# -- syntax ---------------------------------------------------------------------------------------


def test_syntax_comments_continuations_defaults_case_and_include(tmp_path: Path) -> None:
    text = (
        "include /etc/slurm/nodes.conf\n"
        "nodename=DEFAULT cpus=8 REALMEMORY=4096   # defaults for the lines below\n"
        "NodeName=cn[1-4] \\\n"
        "  features=fast,tag\\#1\n"
        "NODENAME=cn[5-6] RealMemory=8192 Weight=5\n"
        "NodeName=DEFAULT CPUs=16\n"
        "NodeName=big1 Features=\"fat, wide\"\n"
        "partitionname=DEFAULT MaxNodes=UNLIMITED maxtime=INFINITE\n"
        "PartitionName=all Nodes=cn[1-6],big1\n"
    )
    result = imported(tmp_path, text)
    machine = result.machine
    assert machine.name == "slurm.conf"  # no ClusterName: the file name
    assert [(t.name, t.count, t.ddr_gb, t.features) for t in machine.node_types] == [
        ("fast-tag#1", 4, 4.0, ("fast", "tag#1")),
        ("cn", 2, 8.0, ()),
        ("fat-wide", 1, 4.0, ("fat", "wide")),
    ]
    assert [machine.cpu_spec(t).cores for t in machine.node_types] == [8, 8, 16]
    # fewest features first (the default), then lowest Weight, then file order
    assert machine.partitions["all"].node_types == ("cn", "fast-tag#1", "fat-wide")
    assert machine.partitions["all"].max_time_s is None and machine.partitions["all"].max_nodes is None
    assert result.notes[0] == f"{tmp_path}/slurm.conf:1: Include not followed: include /etc/slurm/nodes.conf"
    assert machine.node_types[0].source.endswith("slurm.conf: NodeName line 3")


@pytest.mark.parametrize(
    ("fields", "sockets", "cores", "threads"),
    [
        ("CPUs=24", 1, 24, 1),
        ("Procs=24", 1, 24, 1),
        ("CPUs=48 ThreadsPerCore=2", 1, 24, 2),
        ("Sockets=2 CPUs=48", 2, 24, 1),
        ("CoresPerSocket=12 CPUs=24", 2, 12, 1),
        ("Sockets=2 CoresPerSocket=12 ThreadsPerCore=2 CPUs=24", 2, 12, 2),  # CPUs may count cores
        ("Sockets=2 CoresPerSocket=64 ThreadsPerCore=2", 2, 64, 2),
        ("", 1, 1, 1),  # Slurm's default: one CPU
    ],
)
def test_cpu_topology(tmp_path: Path, fields: str, sockets: int, cores: int, threads: int) -> None:
    machine = imported(tmp_path, f"NodeName=n[1-2] {fields} RealMemory=1024\n{GOOD_PARTITION}").machine
    (node_type,) = machine.node_types
    spec = machine.cpu_spec(node_type)
    assert (node_type.cpus_per_node, spec.cores) == (sockets, cores)
    if node_type.cpu.startswith("generic-"):
        assert spec.threads == cores * threads


@pytest.mark.parametrize(
    ("gres", "gpu", "gpus"),
    [
        ("gpu:4", "A100-SXM4-40GB", 4),  # untyped: the first catalog GPU
        ("gpu:A100-SXM4-80GB:4", "A100-SXM4-80GB", 4),
        ("gpu:a100_80gb:2(S:0-1)", "A100-SXM4-80GB", 2),
        ("nic:1,gpu:a100:no_consume:8", "A100-SXM4-40GB", 8),
        ("gpu", "A100-SXM4-40GB", 1),
        ("gpu:v100:8", "generic-v100", 8),
        ("gpu:h100:2,gpu:h100:2", "generic-h100", 4),
    ],
)
def test_gres(tmp_path: Path, gres: str, gpu: str, gpus: int) -> None:
    text = f"NodeName=g[1-2] CPUs=64 RealMemory=1024 Gres={gres}\nPartitionName=p Nodes=g[1-2]\n"
    result = imported(tmp_path, text)
    (node_type,) = result.machine.node_types
    assert (node_type.gpu, node_type.gpus_per_node) == (gpu, gpus)
    if gpu.startswith("generic-"):
        assert result.machine.gpu_spec(node_type) == result.machine.extra_devices.gpu[gpu]
        path = write(tmp_path, system_toml(result), "gpu.toml")
        assert load_system(str(path)) == result.machine


@pytest.mark.parametrize(
    ("max_time", "seconds"),
    [
        ("30", 1800),
        ("30:15", 1815),
        ("1:00:00", 3600),
        ("2-00", 172800),
        ("1-12:30", 131400),  # 86,400 + 43,200 + 1,800
        ("1-00:00:10", 86410),
        ("UNLIMITED", None),
        ("infinite", None),
    ],
)
def test_max_time(tmp_path: Path, max_time: str, seconds: int | None) -> None:
    text = f"NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 MaxTime={max_time}\n"
    assert imported(tmp_path, text).machine.partitions["p"].max_time_s == seconds


# -- partitions and node types --------------------------------------------------------------------


def test_first_partition_wins_and_unpartitioned_nodes_count(tmp_path: Path) -> None:
    text = (
        "NodeName=nid[01-10] CPUs=64 RealMemory=1024\n"
        "NodeName=login[1-2] CPUs=64\n"  # in no partition: no RealMemory needed
        "PartitionName=regular Nodes=nid[01-08]\n"
        "PartitionName=debug Nodes=nid[07-10] MaxNodes=2\n"
    )
    result = imported(tmp_path, text)
    machine = result.machine
    assert [(t.name, t.count) for t in machine.node_types] == [("nid", 8), ("nid-2", 2), ("login", 2)]
    assert machine.partition_node_counts() == {"regular": 8, "debug": 2}
    assert machine.node_count == 12 and machine.partition_of("login") is None
    assert machine.partitions["debug"].max_nodes == 2
    assert any("partition 'debug' lists nodes already in an earlier partition (2 in 'regular')" in n
               for n in result.notes)  # fmt: skip


def test_weight_orders_node_types_with_as_many_features(tmp_path: Path) -> None:
    text = (
        "NodeName=a[1-2] CPUs=64 RealMemory=1024 Features=gpu,slow Weight=50\n"
        "NodeName=b[1-2] CPUs=64 RealMemory=2048 Features=gpu,quick Weight=1\n"
        "PartitionName=gpu Nodes=a[1-2],b[1-2]\n"
    )
    machine = imported(tmp_path, text).machine
    assert machine.partitions["gpu"].node_types == ("gpu-quick", "gpu-slow")
    assert [p.name for p in machine.pools()] == ["gpu:slow", "gpu"]  # pools by node id, a* first


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NodeName=n[1-3 CPUs=4\n", ":1: NodeName: hostlist 'n[1-3': '[' at position 2 is never closed"),
        ("NodeName=n1 RealMemory=lots\n" + GOOD_PARTITION,
         ":1: RealMemory: expected a whole number >= 1 (got 'lots')"),
        ("NodeName=n1 CPUs=0 RealMemory=1\n", ":1: CPUs: expected a whole number >= 1 (got '0')"),
        ("NodeName=n[1-2] RealMemory=1\nNodeName=n2 RealMemory=1\n",
         ":2: NodeName: node 'n2' is already defined on line 1"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n[1-2]\n",
         ":2: Nodes: node 'n2' of partition 'p' is not defined by any NodeName line"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 MaxTime=soon\n",
         ":2: MaxTime: expected minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED (got 'soon')"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 MaxTime=0\n",
         ":2: MaxTime: a time limit must be positive (got '0')"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 MaxNodes=-1\n", ":2: MaxNodes: expected a"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 Default=maybe\n",
         ":2: Default: expected YES or NO (got 'maybe')"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1\nPartitionName=p Nodes=n1\n",
         ":3: PartitionName: partition already defined on line 2 (got 'p')"),
        ("NodeName=n1 Sockets=2 CoresPerSocket=4 CPUs=10 RealMemory=1\n",
         ":1: CPUs: disagrees with Sockets x CoresPerSocket x ThreadsPerCore = 8 (got '10')"),
        ("NodeName=n1 Sockets=4 CPUs=10\n", ":1: CPUs: not a multiple of Sockets x ThreadsPerCore = 4"),
        ("NodeName=n1 CoresPerSocket=4 ThreadsPerCore=2 CPUs=12\n",
         ":1: CPUs: not a multiple of CoresPerSocket x ThreadsPerCore = 8 (got '12')"),
        ("NodeName n1 CPUs=4\n", ":1: expected Key=Value, got 'NodeName'"),
        ("NodeName=n1 Gres=gpu:a100:2,gpu:v100:2 RealMemory=1\n",
         ":1: Gres: nodes with several GPU types are not modelled"),
        ("NodeName=n1 Gres=gpu:a:b:2\n", ":1: Gres: expected gpu[:TYPE][:COUNT], not 'gpu:a:b:2'"),
        ("NodeName=n1 CPUs=4 oops\n", ":1: expected Key=Value, got 'oops'"),
        ("NodeName=n1 CPUs=4 cpus=8\n", ":1: cpus: given twice on one line"),
        ('NodeName=n1 Features="gpu\n', ":1: No closing quotation"),
        ("NodeName=n1 CPUs=4\n" + GOOD_PARTITION,
         ":1: RealMemory: missing for nodes of partition 'p'; pmtwin needs the memory of partition nodes"),
        ("NodeName=n1 RealMemory=1\nPartitionName=p\n", ": no PartitionName line lists a node"),
        ("NodeName=a1 RealMemory=1\nNodeName=b1 RealMemory=2\n" + GOOD_PARTITION,
         ":1 and line 2: Features: nodes of partition 'p' differ in hardware but have the same features []"),
        ("# NodeName=n1\nInclude nodes.conf\n",
         ": no active NodeName line (commented-out lines do not count); Include lines were not followed (1)"),
    ],
)
def test_user_mistakes_name_the_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    assert message in import_error(tmp_path, text)


def test_a_partition_that_is_not_up_is_a_note(tmp_path: Path) -> None:
    result = imported(tmp_path, "NodeName=n1 RealMemory=1\nPartitionName=p Nodes=n1 State=DOWN\n")
    assert f"{tmp_path / 'slurm.conf'}:2: partition 'p' is DOWN; imported like an UP one" in result.notes


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(MachineConfigError, match="cannot read config file"):
        machine_from_slurm_conf(tmp_path / "missing.conf")


def test_extra_devices_may_not_redefine_a_catalog_device(tmp_path: Path) -> None:
    result = imported(tmp_path, "NodeName=n1 CPUs=24 RealMemory=1\n" + GOOD_PARTITION)
    text = system_toml(result).replace("generic-24c-24t", "EPYC-7763")
    path = write(tmp_path, text, "clash.toml")
    with pytest.raises(MachineConfigError, match=r"extra_devices\.cpu\.EPYC-7763: the catalog already has"):
        load_system(str(path))


# -- the command ----------------------------------------------------------------------------------


def test_cli_from_slurm_edison_then_replay(edison_conf: Path, tmp_path: Path, traces_dir: Path) -> None:
    out = tmp_path / "edison.toml"
    code, stdout, stderr = invoke("machine", "from-slurm", str(edison_conf), "--name", "edison",
                                  "--out", str(out), "--json")  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert (summary["name"], summary["node_count"], summary["partitions"]) == ("edison", 5576, {"main": 5576})
    assert "note: node type 'nid': no catalog CPU has 12 cores" in stderr and f"wrote {out}" in stderr
    assert load_system(str(out)).name == "edison"
    trace = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    code, stdout, stderr = invoke("replay", trace, "--machine", str(out), "--partition", "main",
                                  "--out", str(tmp_path / "run"), "-q")  # fmt: skip
    assert code == 0, stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["jobs"] == 28467


def test_cli_from_slurm_perlmutter_like_then_simulate(tmp_path: Path) -> None:
    conf = write(tmp_path, PERLMUTTER_LIKE)
    out = tmp_path / "pm.toml"
    code, stdout, stderr = invoke("machine", "from-slurm", str(conf), "--out", str(out))
    assert code == 0, stderr
    assert "perlmutter-like: 4,864 nodes from slurm.conf" in stdout and "Compute nodes: peaks" in stdout
    run = str(tmp_path / "run")
    code, _, stderr = invoke("simulate", "--machine", str(out), "--days", "1", "--out", run, "-q")
    assert code == 0, stderr
    config = (tmp_path / "run" / "config.toml").read_text()
    assert 'gpu = 1536\n"gpu:hbm80g" = 256\ncpu = 3072' in config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "cannot read config file"),
        ("NodeName=n1 RealMemory=x\n", "slurm.conf:1: RealMemory: expected a whole number"),
    ],
)
def test_cli_from_slurm_errors_are_one_line(tmp_path: Path, text: str | None, expected: str) -> None:
    conf = tmp_path / "slurm.conf" if text is None else write(tmp_path, text)
    code, stdout, stderr = invoke("machine", "from-slurm", str(conf))
    assert code == 2
    assert stderr.startswith("error: ") and expected in stderr and "Traceback" not in stderr
    assert stdout == ""


def test_cli_from_slurm_unwritable_out_is_one_line(edison_conf: Path, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "edison.toml"
    code, stdout, stderr = invoke("machine", "from-slurm", str(edison_conf), "--out", str(out))
    assert code == 2 and "error: " in stderr and "No such file or directory" in stderr
    assert "Traceback" not in stderr and stdout == ""

"""QOS tables: the packaged Perlmutter and single tables, and bad QOS files reported by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmtwin.sched import Qos, QosTable, list_qos_tables, load_qos
from pmtwin.sched.qos import QosConfigError

HOUR_S = 3600.0


@pytest.fixture(scope="module")
def perlmutter() -> QosTable:
    return load_qos("perlmutter")


def test_packaged_tables() -> None:
    assert list_qos_tables() == ["perlmutter", "single"]
    assert load_qos().name == "perlmutter"


def test_perlmutter_names_and_default(perlmutter: QosTable) -> None:
    assert set(perlmutter.names) == {
        "regular", "debug", "premium", "overrun", "shared", "interactive", "shared_interactive",
        "realtime", "preempt",
    }  # fmt: skip
    # NERSC's own default is debug; a trace job without a QOS is replayed as regular (see the file).
    assert perlmutter.default == "regular"
    assert perlmutter.get("").name == "regular"
    assert perlmutter.index("") == perlmutter.index("regular") == 0


DOCUMENTED = [
    # (QOS, field, value): the limits of the reference sheet, section 4, and the charge factors.
    ("regular", "max_walltime_s", 48 * HOUR_S),
    ("regular", "max_nodes_per_job", 0),
    ("regular", "charge_factor", 1.0),
    ("debug", "max_walltime_s", 0.5 * HOUR_S),
    ("debug", "max_nodes_per_job", 8),
    ("shared", "max_walltime_s", 48 * HOUR_S),
    ("shared", "max_node_fraction", 0.5),
    ("shared", "max_nodes_per_job", 1),
    ("shared", "shared", True),
    ("interactive", "max_walltime_s", 4 * HOUR_S),
    ("interactive", "max_nodes_per_job", 4),
    ("shared_interactive", "max_walltime_s", 4 * HOUR_S),
    ("shared_interactive", "shared", True),
    ("premium", "max_nodes_per_job", 0),
    ("premium", "charge_factor", 2.0),
    ("overrun", "charge_factor", 0.0),
    ("realtime", "max_nodes_per_job", 10),
    ("preempt", "max_nodes_per_job", 128),
    ("preempt", "max_walltime_s", 48 * HOUR_S),
    ("preempt", "charge_factor", 0.25),
    ("preempt", "preemptible", True),
]


@pytest.mark.parametrize(("name", "field", "value"), DOCUMENTED)
def test_documented_value(perlmutter: QosTable, name: str, field: str, value: object) -> None:
    assert getattr(perlmutter.get(name), field) == value


def test_priority_order(perlmutter: QosTable) -> None:
    """Realtime highest, interactive high, overrun the lowest (reference sheet; NERSC's rank column)."""
    p = {qos.name: qos.priority for qos in perlmutter.qos}
    assert p["realtime"] == max(p.values())
    assert p["overrun"] == min(p.values())
    assert p["realtime"] > p["interactive"] >= p["premium"] > p["debug"] > p["regular"] > p["overrun"]
    assert p["shared"] == p["regular"]


def test_preemption(perlmutter: QosTable) -> None:
    preemptible = [qos.name for qos in perlmutter.qos if qos.preemptible]
    assert preemptible == ["preempt"]
    preemptors = {qos.name for qos in perlmutter.qos if "preempt" in qos.can_preempt}
    assert preemptors == {"regular", "debug", "premium", "interactive", "realtime"}
    for qos in perlmutter.qos:
        assert all(perlmutter.get(target).preemptible for target in qos.can_preempt)


def test_every_qos_cites_a_source(perlmutter: QosTable) -> None:
    assert all(qos.source.strip() for qos in perlmutter.qos)
    assert all(qos.max_node_fraction == 1.0 for qos in perlmutter.qos if not qos.shared)


def test_single_table() -> None:
    table = load_qos("single")
    assert table.names == ("normal",)
    assert table.get("") == table.get("normal")
    normal = table.get("normal")
    limits = [
        normal.priority, normal.max_walltime_s, normal.max_nodes_per_job, normal.max_running_jobs_per_user,
        normal.max_running_nodes_per_user, normal.max_running_jobs_per_account,
        normal.max_submitted_jobs_per_user,
    ]  # fmt: skip
    assert limits == [0] * 7
    assert (normal.charge_factor, normal.shared, normal.preemptible, normal.can_preempt) == (
        1.0,
        False,
        False,
        (),
    )


def test_unknown_qos_name_lists_the_valid_ones(perlmutter: QosTable) -> None:
    with pytest.raises(QosConfigError, match=r"unknown QOS 'gpu_regular'; valid: regular, debug, premium"):
        perlmutter.index("gpu_regular")
    with pytest.raises(QosConfigError, match="unknown QOS 'x'"):
        perlmutter.get("x")


def test_models_are_frozen(perlmutter: QosTable) -> None:
    with pytest.raises(ValueError, match="frozen"):
        perlmutter.qos[0].priority = 1  # type: ignore[misc]
    assert isinstance(perlmutter.qos[0], Qos)


# -- bad files --------------------------------------------------------------------------------------

GOOD = """\
name = "tiny"
source = "tests"
default = "a"

[[qos]]
name = "a"
priority = 10
can_preempt = ["b"]
source = "tests"

[[qos]]
name = "b"
preemptible = true
shared = true
max_node_fraction = 0.5
source = "tests"
"""


def write(tmp_path: Path, old: str, new: str) -> Path:
    assert GOOD.count(old) == 1, old
    path = tmp_path / "qos.toml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(QosConfigError) as info:
        load_qos(str(path))
    error = info.value
    assert isinstance(error, ValueError)
    assert error.__cause__ is None, "no chained pydantic traceback"
    assert error.__context__ is None or error.__suppress_context__
    assert "pydantic" not in str(error)
    assert str(error).startswith(f"{path}: ")
    return str(error)


def test_good_file_loads(tmp_path: Path) -> None:
    table = load_qos(str(write(tmp_path, 'name = "tiny"', 'name = "tiny"')))
    assert table.names == ("a", "b")
    assert table.get("b").max_node_fraction == 0.5


INVALID = [
    # (text in GOOD, its replacement, expected "field.path: message")
    ('name = "b"', 'name = "a"', "qos[1].name: duplicate QOS 'a'"),
    ('default = "a"', 'default = "c"', "default: unknown QOS 'c'; valid: a, b"),
    ('can_preempt = ["b"]', 'can_preempt = ["z"]', "qos[0].can_preempt[0]: unknown QOS 'z'; valid: a, b"),
    (
        'can_preempt = ["b"]',
        'can_preempt = ["b", "a"]',
        "qos[0].can_preempt[1]: QOS 'a' cannot preempt itself",
    ),
    (
        "priority = 10",
        "priority = -1",
        "qos[0].priority: Input should be greater than or equal to 0 (got -1)",
    ),
    ("priority = 10", 'priority = "x"', "qos[0].priority: Input should be a valid integer (got 'x')"),
    (
        "priority = 10",
        "max_walltime_s = -5",
        "qos[0].max_walltime_s: Input should be greater than or equal to 0",
    ),
    (
        "priority = 10",
        "charge_factor = -1",
        "qos[0].charge_factor: Input should be greater than or equal to 0",
    ),
    ("priority = 10", "max_nodes_per_job = 1.5", "qos[0].max_nodes_per_job: Input should be a valid integer"),
    ("priority = 10", "colour = 1", "qos[0].colour: Extra inputs are not permitted"),
    (
        "max_node_fraction = 0.5",
        "max_node_fraction = 1.5",
        "qos[1].max_node_fraction: Input should be less than",
    ),
    (
        "max_node_fraction = 0.5",
        "max_node_fraction = 0",
        "qos[1].max_node_fraction: Input should be greater than 0",
    ),
    ("shared = true", "shared = false", "qos[1]: max_node_fraction 0.5 needs shared = true"),
    ("preemptible = true", 'preemptible = "yes"', "qos[1].preemptible: Input should be a valid boolean"),
    (
        'priority = 10\ncan_preempt = ["b"]\nsource = "tests"',
        "priority = 10",
        "qos[0].source: Field required",
    ),
    (
        'source = "tests"\ndefault = "a"',
        'source = ""\ndefault = "a"',
        "source: String should have at least 1",
    ),
    ('default = "a"', "", "default: Field required"),
    ('name = "tiny"', 'name = "tiny"\nextra = 1', "extra: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("old", "new", "expected"), INVALID)
def test_invalid_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert expected in load_error(write(tmp_path, old, new))


def test_table_without_qos(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text('name = "e"\nsource = "s"\ndefault = "a"\nqos = []\n', encoding="utf-8")
    assert "qos: a QOS table needs at least one [[qos]] entry" in load_error(path)


def test_every_error_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "priority = 10", "priority = -1")
    path.write_text(
        path.read_text().replace("max_node_fraction = 0.5", "max_node_fraction = 2"), encoding="utf-8"
    )
    lines = load_error(path).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["qos[0].priority", "qos[1].max_node_fraction"]


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "priority = 10", "priority = ")
    assert "invalid TOML" in load_error(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read config file" in load_error(tmp_path / "nope.toml")


def test_unknown_packaged_table() -> None:
    with pytest.raises(QosConfigError, match="unknown QOS table 'nope'; packaged tables: perlmutter, single"):
        load_qos("nope")

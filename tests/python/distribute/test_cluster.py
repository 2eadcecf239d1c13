"""ff.distribute's launcher detection (distribute/cluster.py): mpirun's variables, the
launcher-free FORGEFLOW_* rendezvous (which wins), torchrun's names, one process otherwise, and a
clear error for an incomplete or inconsistent set of variables."""
import pytest

from forgeflow.distribute import cluster


def test_no_launcher_is_one_process():
    c = cluster.from_environment({})
    assert (c.launcher, c.rank, c.size) == (None, 0, 1)


FOUR = {"FORGEFLOW_RANK": "2", "FORGEFLOW_WORLD_SIZE": "4", "FORGEFLOW_MASTER_ADDR": "node0",
        "FORGEFLOW_MASTER_PORT": "29500"}


def test_forgeflow_variables():
    c = cluster.from_environment(FOUR)
    assert (c.launcher, c.rank, c.size, c.address, c.port) == ("env", 2, 4, "node0", 29500)
    assert c.local_rank == 2  # one machine unless FORGEFLOW_LOCAL_RANK says otherwise
    c = cluster.from_environment(dict(FOUR, FORGEFLOW_LOCAL_RANK="0"))
    assert c.local_rank == 0


def test_torchrun_names_and_precedence():
    torch = {"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "1234",
             "LOCAL_RANK": "1"}
    c = cluster.from_environment(torch)
    assert (c.launcher, c.rank, c.size, c.address, c.port) == ("env", 1, 2, "10.0.0.1", 1234)
    assert "torchrun" in c.source
    # mpirun's variables win over torchrun's; FORGEFLOW_* over both.
    c = cluster.from_environment(dict(torch, OMPI_COMM_WORLD_SIZE="3",
                                      OMPI_COMM_WORLD_LOCAL_RANK="2"))
    assert (c.launcher, c.size, c.local_rank) == ("mpi", 3, 2)
    c = cluster.from_environment(dict(torch, OMPI_COMM_WORLD_SIZE="3", FORGEFLOW_RANK="0",
                                      FORGEFLOW_WORLD_SIZE="1"))
    assert (c.launcher, c.rank, c.size) == ("env", 0, 1)


def test_incomplete_or_inconsistent_variables_are_named():
    with pytest.raises(ValueError, match="FORGEFLOW_MASTER_ADDR, FORGEFLOW_MASTER_PORT are not"):
        cluster.from_environment({"FORGEFLOW_RANK": "0", "FORGEFLOW_WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="FORGEFLOW_WORLD_SIZE is not"):
        cluster.from_environment({"FORGEFLOW_RANK": "0"})
    base = {"FORGEFLOW_WORLD_SIZE": "2", "FORGEFLOW_MASTER_ADDR": "a", "FORGEFLOW_MASTER_PORT": "5"}
    with pytest.raises(ValueError, match=r"FORGEFLOW_RANK=2 must be below FORGEFLOW_WORLD_SIZE=2"):
        cluster.from_environment(dict(base, FORGEFLOW_RANK="2"))
    with pytest.raises(ValueError, match=r"FORGEFLOW_RANK='one' must be an integer"):
        cluster.from_environment(dict(base, FORGEFLOW_RANK="one"))
    with pytest.raises(ValueError, match=r"FORGEFLOW_MASTER_PORT=70000 must be a TCP port"):
        cluster.from_environment(dict(base, FORGEFLOW_RANK="0", FORGEFLOW_MASTER_PORT="70000"))


def test_timeout_from_environment():
    assert cluster.timeout_from_environment({}) == 300.0
    assert cluster.timeout_from_environment({"FORGEFLOW_DISTRIBUTE_TIMEOUT": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ValueError, match="FORGEFLOW_DISTRIBUTE_TIMEOUT"):
            cluster.timeout_from_environment({"FORGEFLOW_DISTRIBUTE_TIMEOUT": bad})

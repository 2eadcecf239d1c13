"""Data-parallel training over several processes on the CPU (ff.distribute): 2 and 3 workers
started by mpirun, and 2 by the launcher-free rendezvous (FORGEFLOW_* variables), train a tiny
MLP to the weights one process reaches on the same global batches (within float rounding), every
worker holding the same bits, and the same bits again run to run and across the two transports
(the fixed-order all-reduce); a dataset's global batches are shared the same way. Failures: a
worker that dies or hangs makes the others stop with an error naming it, and weights changed on
one worker are named at the end of the epoch."""
import numpy as np
import pytest

from ._launch import alone, env_launch, mpirun


def _weights(out, n):
    files = [np.load(out / f"worker{r}.npz") for r in range(n)]
    return [f["weights"] for f in files], [f["loss"] for f in files]


def _train(tmp_path, name, launch, n, **config):
    out = tmp_path / name
    out.mkdir()
    config = dict(config, out=str(out))
    if launch == "alone":
        result = alone(config)
        assert result.returncode == 0, result
    elif launch == "mpirun":
        result = mpirun(n, config)
        assert result.returncode == 0, result
    else:
        for result in env_launch(n, config):
            assert result.returncode == 0, result
    return _weights(out, 1 if launch == "alone" else n)


def test_two_and_three_workers_train_to_one_process_weights(tmp_path):
    (reference,), (ref_loss,) = _train(tmp_path, "alone", "alone", 1)
    for n in (2, 3):  # 26 rows in global batches of 8: with 3 workers a last share is empty
        weights, losses = _train(tmp_path, f"mpi{n}", "mpirun", n)
        for w, loss in zip(weights, losses):
            assert np.array_equal(w, weights[0])           # every worker: the same bits
            np.testing.assert_allclose(w, reference, rtol=0, atol=1e-5)
            np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)  # logs of the global batch


def test_weight_regularizers_are_applied_once_per_step_not_once_per_worker(tmp_path):
    # The penalty's gradient is added after the all-reduce (every worker holds the same weights):
    # added before it, 2 or 3 workers would apply it 2 or 3 times. With 3 workers the last
    # global batch leaves worker 2 an empty share: its step must add the penalty too.
    (reference,), (ref_loss,) = _train(tmp_path, "alone", "alone", 1, l2=0.05)
    (plain,), _ = _train(tmp_path, "plain", "alone", 1)
    assert np.abs(reference - plain).max() > 1e-3  # the regularizer changes the weights
    for n in (2, 3):
        weights, losses = _train(tmp_path, f"mpi{n}", "mpirun", n, l2=0.05)
        for w, loss in zip(weights, losses):
            assert np.array_equal(w, weights[0])
            np.testing.assert_allclose(w, reference, rtol=0, atol=1e-5)
            np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)  # the penalty counted once


def test_runs_are_bit_identical_run_to_run_and_across_transports(tmp_path):
    (first, *_), _ = _train(tmp_path, "mpi_a", "mpirun", 2)
    (second, *_), _ = _train(tmp_path, "mpi_b", "mpirun", 2)
    (rendezvous, *_), _ = _train(tmp_path, "env", "env", 2)
    assert np.array_equal(first, second)
    assert np.array_equal(first, rendezvous)


def test_a_dataset_global_batch_is_shared_among_the_workers(tmp_path):
    (reference,), _ = _train(tmp_path, "alone", "alone", 1, data="dataset")
    weights, _ = _train(tmp_path, "env", "env", 2, data="dataset")
    assert np.array_equal(weights[0], weights[1])
    np.testing.assert_allclose(weights[0], reference, rtol=0, atol=1e-5)


def test_a_dead_worker_is_named_by_the_others(tmp_path):
    config = {"out": str(tmp_path), "fail": {"worker": 1, "epoch": 1, "how": "exit"},
              "timeout": 60}
    zero, one = env_launch(2, config)
    assert one.returncode == 3
    assert zero.returncode != 0
    assert "forgeflow.errors.UnavailableError" in zero.output
    assert "worker 1 (of 2) closed its connection during the start of epoch 2" in zero.output
    # Under mpirun the launcher ends the job and names the process (its rank last).
    result = mpirun(2, config)
    assert result.returncode != 0
    assert "Process name: [[" in result.output and ",1],1]" in result.output


def test_a_hung_worker_is_named_after_the_timeout(tmp_path):
    config = {"out": str(tmp_path), "fail": {"worker": 1, "epoch": 1, "how": "hang"},
              "timeout": 2}
    result = mpirun(2, config)
    assert result.returncode != 0
    assert "forgeflow.errors.DeadlineExceededError" in result.output
    assert "worker 1 (of 2) sent nothing for 2 s during the start of epoch 2" in result.output


def test_diverged_weights_name_the_worker(tmp_path):
    config = {"out": str(tmp_path), "fail": {"worker": 1, "epoch": 1, "how": "diverge"}}
    result = mpirun(3, config)
    assert result.returncode != 0
    assert "forgeflow.errors.AbortedError" in result.output
    assert ("after epoch 2 the weights of worker 1 differ from those of workers 0 and 2 (the "
            "majority): worker 1 has diverged") in result.output


def _csv_files(folder, files=4, rows=7):
    rng = np.random.default_rng(2)
    folder.mkdir()
    for f in range(files):
        lines = ["a,b,c,d,e,label"]
        for r in range(rows):
            values = ",".join(f"{v:.4f}" for v in rng.uniform(-1, 1, 5))
            lines.append(f"{values},{(f * rows + r) % 3}")
        (folder / f"part{f}.csv").write_text("\n".join(lines) + "\n")
    return sorted(str(p) for p in folder.glob("*.csv"))


def test_csv_files_are_sharded_by_file(tmp_path):
    files = _csv_files(tmp_path / "csv")
    out = tmp_path / "out"
    out.mkdir()
    for result in env_launch(2, {"out": str(out), "data": "csv", "csv": str(tmp_path / "csv"),
                                 "epochs": 2}):
        assert result.returncode == 0, result
    runs = [np.load(out / f"worker{r}.npz") for r in range(2)]
    read = [list(r["files"]) for r in runs]
    assert read == [files[0::2], files[1::2]]  # each worker reads only its files
    assert np.array_equal(runs[0]["weights"], runs[1]["weights"])


def test_image_folders_are_sharded_by_file(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(3)
    for label in ("cats", "dogs", "eels"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 255, (4, 4, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / label / f"{i}.png")
    out = tmp_path / "out"
    out.mkdir()
    for result in env_launch(3, {"out": str(out), "data": "images", "batch": 6, "epochs": 1,
                                 "images": str(tmp_path / "images")}):
        assert result.returncode == 0, result
    runs = [np.load(out / f"worker{r}.npz") for r in range(3)]
    read = [set(r["files"]) for r in runs]
    assert all(len(r) == 5 for r in read)
    assert not (read[0] & read[1]) and not (read[0] & read[2]) and not (read[1] & read[2])
    assert len(read[0] | read[1] | read[2]) == 15
    assert np.array_equal(runs[0]["weights"], runs[2]["weights"])


def test_workers_that_shuffle_differently_are_stopped(tmp_path):
    # A dataset shuffled without a seed before the strategy aligned the workers' seeds: every
    # worker would take its rows of a different global batch (overlapping data).
    results = env_launch(2, {"out": str(tmp_path), "data": "unseeded"})
    for result in results:
        assert result.returncode != 0
        assert "forgeflow.errors.AbortedError" in result.output
        assert "the first global batch of epoch 1 differs between worker 0 and worker 1" in \
            result.output


def test_a_killed_job_resumes_exactly_from_worker_0s_backup(tmp_path):
    backup = tmp_path / "backup"
    full = {"epochs": 4, "batch": 6}
    (uninterrupted, *_), _ = _train(tmp_path, "full", "env", 2, **full)
    out = tmp_path / "resumed"
    out.mkdir()
    config = dict(full, out=str(out), backup=str(backup), kill_at={"worker": 1, "epoch": 1})
    zero, one = env_launch(2, config)  # worker 1 dies after epoch 2; worker 0 names it
    assert one.returncode == 9
    assert zero.returncode != 0 and "worker 1 (of 2) closed its connection" in zero.output
    assert (backup / "backup.ff").exists()  # written by worker 0 after epoch 2
    del config["kill_at"]
    for result in env_launch(2, config):  # the job started again: every worker restores
        assert result.returncode == 0, result
    weights, _ = _weights(out, 2)
    assert np.array_equal(weights[0], uninterrupted)
    assert np.array_equal(weights[1], uninterrupted)
    assert not (backup / "backup.ff").exists()  # deleted by worker 0 at the end


def test_one_run_is_recorded_with_its_number_of_workers(tmp_path):
    import forgeflow as ff
    _train(tmp_path, "run", "mpirun", 3, epochs=2)
    runs = ff.tracking.list_runs()
    assert len(runs) == 1
    assert runs[0]["workers"] == 3 and runs[0]["status"] == "finished"
    assert [e["epoch"] for e in ff.tracking.get_run(runs[0]["id"])["epoch_metrics"]] == [0, 1]


def test_worker_0_writes_the_checkpoints(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    config = {"out": str(out), "checkpoint": str(tmp_path / "ckpt" / "model-{epoch}.ff"),
              "epochs": 2}
    for result in env_launch(2, config):
        assert result.returncode == 0, result
    saved = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert saved == ["model-1.ff", "model-2.ff"]
    import forgeflow as ff
    restored = ff.models.load_model(tmp_path / "ckpt" / "model-2.ff")
    final = np.concatenate([w.ravel() for w in restored.get_weights()])
    assert np.array_equal(final, np.load(out / "worker1.npz")["weights"])


def test_a_worker_hung_at_the_end_of_the_run_is_named(tmp_path):
    # MPI_Finalize waits for every process: a barrier with the timeout comes first.
    result = mpirun(2, {"out": str(tmp_path), "timeout": 2, "epochs": 1, "hang_at_exit": 1})
    assert result.returncode != 0
    assert ("DeadlineExceededError: ff.distribute: worker 1 (of 2) sent nothing for 2 s during the "
            "end of the run (before MPI_Finalize)") in result.output

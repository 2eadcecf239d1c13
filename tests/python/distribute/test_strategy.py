"""ff.distribute's strategies in one process (TensorFlow's surface): one replica, scope(),
get_strategy / has_strategy, the model tied to the strategy of the scope it was created or
compiled in, fit under a one-replica strategy giving the bits of a plain fit, the argument
checks, and ff.errors' classes for the workers' failures."""
import numpy as np
import pytest

import forgeflow as ff


def _data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 3, 40)


def _model():
    model = ff.Sequential([ff.Input((4,)), ff.layers.Dense(6, activation="relu"),
                           ff.layers.Dense(3)])
    model.compile(optimizer="adam", loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_one_process_is_one_replica():
    for strategy in (ff.distribute.MultiWorkerMirroredStrategy(), ff.distribute.MirroredStrategy()):
        assert strategy.num_replicas_in_sync == 1
        assert strategy.cluster_resolver.task_type == "worker"
        assert strategy.cluster_resolver.task_id == 0
        assert strategy.is_chief
        strategy.barrier()  # alone: returns at once


def test_scope_and_get_strategy():
    assert not ff.distribute.has_strategy()
    assert ff.distribute.get_strategy().num_replicas_in_sync == 1
    outer, inner = ff.distribute.MultiWorkerMirroredStrategy(), ff.distribute.MirroredStrategy()
    with outer.scope() as s:
        assert s is outer and ff.distribute.has_strategy()
        with inner.scope():
            assert ff.distribute.get_strategy() is inner
        assert ff.distribute.get_strategy() is outer
    assert not ff.distribute.has_strategy()


def test_a_model_belongs_to_the_strategy_of_its_scope():
    strategy = ff.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        created = _model()
    assert created._distribute_strategy is strategy
    plain = ff.Sequential([ff.Input((4,)), ff.layers.Dense(3)])
    assert plain._distribute_strategy is None
    with strategy.scope():
        plain.compile(optimizer="sgd", loss="mse")
    assert plain._distribute_strategy is strategy


def test_fit_with_one_replica_gives_the_bits_of_a_plain_fit():
    x, y = _data()
    results = []
    for use_strategy in (False, True):
        ff.utils.set_random_seed(3)
        if use_strategy:
            with ff.distribute.MultiWorkerMirroredStrategy().scope():
                model = _model()
        else:
            model = _model()
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        results.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(results[0][0], results[1][0]):
        assert np.array_equal(a, b)
    assert results[0][1] == results[1][1]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="cluster_resolver"):
        ff.distribute.MultiWorkerMirroredStrategy(cluster_resolver=object())
    with pytest.raises(ValueError, match="cross_device_ops"):
        ff.distribute.MirroredStrategy(cross_device_ops=object())
    with pytest.raises(ValueError, match=r"lists 2 device\(s\) but 1 worker.*mpirun -np 2"):
        ff.distribute.MirroredStrategy(devices=["/gpu:0", "/gpu:1"])
    options = ff.distribute.experimental.CommunicationOptions
    for bad in (0, -1, "10", True):
        with pytest.raises(ValueError, match="timeout_seconds"):
            options(timeout_seconds=bad)
    with pytest.raises(ValueError, match="bytes_per_pack"):
        options(bytes_per_pack=1024)


def test_communication_options_set_the_timeout():
    options = ff.distribute.experimental.CommunicationOptions(timeout_seconds=12)
    strategy = ff.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    try:
        assert strategy.timeout == 12.0
    finally:
        strategy._collective.timeout = 300.0


def test_the_workers_failures_are_tensorflows_errors():
    for cls, code in ((ff.errors.UnavailableError, 14), (ff.errors.DeadlineExceededError, 4),
                      (ff.errors.AbortedError, 10)):
        e = cls(None, None, "worker 1 is gone")
        assert isinstance(e, ff.errors.OpError)
        assert e.error_code == code and e.message == "worker 1 is gone"
        assert str(e) == "worker 1 is gone"

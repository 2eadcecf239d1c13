"""One worker of the multi-process tests (test_multi_worker.py starts it through mpirun or with
the FORGEFLOW_* variables, and once alone as the reference): a tiny MLP trained with fit on
deterministic data, its final weights and history saved to <out>/worker<rank>.npz.

argv[1] is a JSON dict: out, epochs, batch, rows, strategy ("multi", "mirrored" or "none"),
timeout (seconds), fail ({"worker", "epoch", "how": "exit" | "hang" | "diverge"}), data
("arrays", "dataset", "csv" (files <csv>/*.csv), "images" (the folder <images>), or
"unseeded": a dataset shuffled without a seed, made before the strategy), backup (a
BackupAndRestore directory), checkpoint (a ModelCheckpoint file pattern), kill_at ({"worker",
"epoch"}: os._exit at that epoch's end, after the backup was written), hang_at_exit (a worker
that never ends), l2 (an L2 weight regularizer's factor on the Dense kernels and biases). The files a worker read (csv, images) are saved as `files`.
"""
import json
import os
import sys
import time

import numpy as np

import forgeflow as ff

cfg = json.loads(sys.argv[1])
data_kind = cfg.get("data", "arrays")
rows, features, classes = cfg.get("rows", 26), 5, 3
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(rows, features)).astype(np.float32)
y = (np.arange(rows) * 7 % classes).astype(np.int64)
early = None
if data_kind == "unseeded":  # each process draws its own shuffle seed
    early = ff.data.Dataset.from_tensor_slices((x, y)).shuffle(rows).batch(cfg.get("batch", 8))
else:
    ff.utils.set_random_seed(7)

kind = cfg.get("strategy", "multi")
if kind == "none":
    strategy = ff.distribute.get_strategy()
elif kind == "mirrored":
    strategy = ff.distribute.MirroredStrategy()
else:
    options = ff.distribute.experimental.CommunicationOptions(timeout_seconds=cfg.get("timeout"))
    strategy = ff.distribute.MultiWorkerMirroredStrategy(communication_options=options)
rank = strategy.cluster_resolver.task_id

batch = cfg.get("batch", 8)
inputs = [ff.Input((features,))]
if data_kind == "csv":
    data = ff.data.csv_dataset(os.path.join(cfg["csv"], "*.csv"), label="label", batch_size=batch,
                               shuffle=False)
elif data_kind == "images":
    data = ff.utils.image_dataset_from_directory(cfg["images"], image_size=(4, 4),
                                                 batch_size=batch, shuffle=False)
    inputs = [ff.Input((4, 4, 3)), ff.layers.Flatten()]
elif data_kind == "dataset":
    data = ff.data.Dataset.from_tensor_slices((x, y)).shuffle(rows).batch(batch)
elif data_kind == "unseeded":
    data = early
else:
    data = None

with strategy.scope():
    l2 = cfg.get("l2")  # a weight regularizer: its gradient is added once, after the all-reduce
    regularizer = ff.regularizers.L2(l2) if l2 else None
    model = ff.Sequential(inputs + [ff.layers.Dense(8, activation="relu",
                                                    kernel_regularizer=regularizer),
                                    ff.layers.Dense(classes, bias_regularizer=regularizer)])
    model.compile(optimizer=ff.optimizers.Adam(0.05),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])


class Misbehave(ff.callbacks.Callback):
    def __init__(self, fail, kill_at):
        super().__init__()
        self.fail, self.kill_at = fail or {}, kill_at or {}

    def on_epoch_begin(self, epoch, logs=None):
        if self.fail.get("worker") != rank or self.fail.get("epoch") != epoch:
            return
        how = self.fail["how"]
        if how == "exit":
            os._exit(3)
        if how == "hang":
            time.sleep(3600)
        if how == "diverge":
            w = model.layers[0].get_weights()
            w[0] = w[0] + 0.25
            model.layers[0].set_weights(w)

    def on_epoch_end(self, epoch, logs=None):
        if self.kill_at.get("worker") == rank and self.kill_at.get("epoch") == epoch:
            os._exit(9)


callbacks = []
if cfg.get("backup"):  # before Misbehave: a worker killed at an epoch's end is killed after it
    callbacks.append(ff.callbacks.BackupAndRestore(cfg["backup"]))
if cfg.get("checkpoint"):
    callbacks.append(ff.callbacks.ModelCheckpoint(cfg["checkpoint"], save_best_only=False))
callbacks.append(Misbehave(cfg.get("fail"), cfg.get("kill_at")))
files = []
if data is not None:
    if data_kind in ("csv", "images"):  # what fit reads on this worker
        mine = ff.distribute._training.shard_dataset(model, data)
        files = list(getattr(mine, "files", None) or getattr(mine, "file_paths", None))
    history = model.fit(data, epochs=cfg.get("epochs", 3), verbose=0, callbacks=callbacks)
else:
    history = model.fit(x, y, batch_size=batch, epochs=cfg.get("epochs", 3), verbose=0,
                        callbacks=callbacks)
weights = np.concatenate([w.ravel() for w in model.get_weights()])
np.savez(os.path.join(cfg["out"], f"worker{rank}.npz"), weights=weights,
         loss=np.array(history.history["loss"]), replicas=strategy.num_replicas_in_sync,
         files=np.array(files, dtype=str))
print(f"worker {rank} of {strategy.num_replicas_in_sync} done", flush=True)
if cfg.get("hang_at_exit") == rank:
    time.sleep(3600)

"""Callbacks driven by a small real training loop (a linear model trained with cnnkit's SGD
and MSE, calling the hooks in Keras order) and by scripted epoch logs for exact schedules."""

import csv
import math

import numpy as np
import pytest

from cnnkit import callbacks, losses, optimizers


class LinearRegressor:
    """y = x @ w + b, trained by minibatch SGD on MSE; fit calls callbacks as Keras does."""

    def __init__(self, learning_rate=0.05):
        self.w = np.zeros((2, 1))
        self.b = np.zeros(1)
        self.optimizer = optimizers.SGD(learning_rate)
        self.loss = losses.MeanSquaredError()
        self.stop_training = False
        self.saved = []

    def get_weights(self):
        return [self.w.copy(), self.b.copy()]

    def set_weights(self, weights):
        self.w[...] = weights[0]
        self.b[...] = weights[1]

    def save(self, path):
        with open(path, "wb") as f:
            np.savez(f, w=self.w, b=self.b)
        self.saved.append(str(path))

    def predict(self, x):
        return x @ self.w + self.b

    def fit(self, x, y, epochs, callbacks_list=(), validation_data=None, batch_size=4,
            batch_logs=None):
        history = callbacks.History()
        active = [*callbacks_list, history]
        steps = math.ceil(len(x) / batch_size)
        for callback in active:
            callback.set_model(self)
            callback.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
        self.stop_training = False
        for callback in active:
            callback.on_train_begin({})
        for epoch in range(epochs):
            for callback in active:
                callback.on_epoch_begin(epoch, {})
            for step in range(steps):
                xb = x[step * batch_size:(step + 1) * batch_size]
                yb = y[step * batch_size:(step + 1) * batch_size]
                for callback in active:
                    callback.on_train_batch_begin(step, {})
                value, dpred = self.loss.forward_backward(yb, self.predict(xb))
                self.optimizer.apply([self.w, self.b], [xb.T @ dpred, dpred.sum(axis=0)])
                logs = {"loss": value if batch_logs is None else batch_logs(epoch, step)}
                for callback in active:
                    callback.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = {"loss": self.loss(y, self.predict(x))}
            if validation_data is not None:
                epoch_logs["val_loss"] = self.loss(validation_data[1],
                                                   self.predict(validation_data[0]))
            for callback in active:
                callback.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        for callback in active:
            callback.on_train_end({})
        return history


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, x @ np.array([[2.0], [-1.0]]) + 0.5


def run_scripted(callback, model, epoch_logs):
    """Calls the epoch hooks with the given logs, as fit would, until stop_training is set.

    Before each epoch the model's weights are set to the epoch number, so restoring
    weights reveals which epoch they came from.
    """
    callback.set_model(model)
    callback.on_train_begin({})
    epochs_run = 0
    for epoch, logs in enumerate(epoch_logs):
        model.set_weights([np.full((2, 1), float(epoch)), np.full(1, float(epoch))])
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return epochs_run


def test_history_records_every_epoch():
    x, y = _data()
    model = LinearRegressor()
    history = model.fit(x, y, epochs=3, validation_data=_data(8, seed=1))
    assert history.epoch == [0, 1, 2]
    assert sorted(history.history) == ["loss", "val_loss"]
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][2] < history.history["loss"][0]  # the model really trains
    assert model.history is history
    assert history.params == {"epochs": 3, "steps": 4, "verbose": 0}


def test_early_stopping_patience_counts_epochs_without_improvement():
    stopper = callbacks.EarlyStopping(patience=2)
    model = LinearRegressor()
    losses_seen = [1.0, 0.8, 0.85, 0.9, 0.7]
    ran = run_scripted(stopper, model, [{"val_loss": v} for v in losses_seen])
    assert ran == 4  # epochs 2 and 3 did not improve on 0.8
    assert stopper.stopped_epoch == 3
    assert stopper.best == 0.8
    assert stopper.best_epoch == 1


def test_early_stopping_patience_zero_stops_at_first_worse_epoch():
    stopper = callbacks.EarlyStopping(monitor="loss")
    ran = run_scripted(stopper, LinearRegressor(), [{"loss": v} for v in [3, 2, 2.5, 1]])
    assert ran == 3


def test_early_stopping_min_delta():
    stopper = callbacks.EarlyStopping(min_delta=0.1, patience=1)
    ran = run_scripted(stopper, LinearRegressor(),
                       [{"val_loss": v} for v in [1.0, 0.95, 0.93, 0.5]])
    assert ran == 2  # 0.95 is not better by more than 0.1


def test_early_stopping_maximises_accuracy_in_auto_mode():
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    ran = run_scripted(stopper, LinearRegressor(),
                       [{"val_accuracy": v} for v in [0.5, 0.6, 0.55, 0.7]])
    assert ran == 3
    assert stopper.best == 0.6


def test_early_stopping_baseline():
    # Keras's rule: an epoch that does not beat the baseline never resets the patience count,
    # so the first epoch already counts; without a baseline it would not.
    worsening = [{"val_loss": v} for v in [0.9, 0.95, 0.97, 0.99]]
    assert run_scripted(callbacks.EarlyStopping(patience=2, baseline=0.5), LinearRegressor(),
                        worsening) == 2
    assert run_scripted(callbacks.EarlyStopping(patience=2), LinearRegressor(), worsening) == 3
    beaten = [{"val_loss": v} for v in [0.4, 0.45, 0.47, 0.49]]
    assert run_scripted(callbacks.EarlyStopping(patience=2, baseline=0.5), LinearRegressor(),
                        beaten) == 3


def test_early_stopping_start_from_epoch():
    stopper = callbacks.EarlyStopping(patience=0, start_from_epoch=2)
    ran = run_scripted(stopper, LinearRegressor(),
                       [{"val_loss": v} for v in [1.0, 2.0, 3.0, 4.0, 5.0]])
    assert ran == 4  # epoch 2 sets the best, epoch 3 is worse


def test_early_stopping_restores_best_weights():
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model = LinearRegressor()
    run_scripted(stopper, model, [{"val_loss": v} for v in [1.0, 0.5, 0.7, 0.8, 0.1]])
    assert stopper.best_epoch == 1
    np.testing.assert_array_equal(model.w, np.full((2, 1), 1.0))


def test_early_stopping_in_real_training_restores_best_weights():
    x, y = _data()
    xv = np.random.default_rng(2).normal(size=(8, 2))
    yv = xv @ np.array([[1.0], [-0.5]]) + 0.25  # its optimum lies halfway along the training path
    model = LinearRegressor(learning_rate=0.1)
    stopper = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=50, callbacks_list=[stopper], validation_data=(xv, yv))
    assert len(history.epoch) < 50
    best = int(np.argmin(history.history["val_loss"]))
    assert stopper.best_epoch == best
    assert model.loss(yv, model.predict(xv)) == pytest.approx(history.history["val_loss"][best])


def test_early_stopping_argument_errors():
    with pytest.raises(ValueError, match=r"`mode`.*mode='maximum'"):
        callbacks.EarlyStopping(mode="maximum")
    with pytest.raises(ValueError, match=r"`patience`.*patience=-1"):
        callbacks.EarlyStopping(patience=-1)
    stopper = callbacks.EarlyStopping(monitor="val_f1")
    with pytest.raises(ValueError, match=r"monitor='val_f1'.*mode='max' or mode='min'"):
        run_scripted(stopper, LinearRegressor(), [{"val_f1": 0.5}])


def test_early_stopping_warns_when_monitor_missing():
    stopper = callbacks.EarlyStopping()
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available.*loss"):
        run_scripted(stopper, LinearRegressor(), [{"loss": 1.0}])


def test_model_checkpoint_formats_path_each_epoch(tmp_path):
    x, y = _data()
    model = LinearRegressor()
    pattern = str(tmp_path / "ckpt" / "model-{epoch:02d}-{loss:.3f}.npz")
    model.fit(x, y, epochs=3, callbacks_list=[callbacks.ModelCheckpoint(pattern)])
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert [n[:9] for n in names] == ["model-01-", "model-02-", "model-03-"]
    with np.load(tmp_path / "ckpt" / names[-1]) as saved:
        np.testing.assert_array_equal(saved["w"], model.w)  # the last save is the final model


def test_model_checkpoint_save_best_only(tmp_path):
    model = LinearRegressor()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.npz"),
                                           save_best_only=True)
    run_scripted(checkpoint, model, [{"val_loss": v} for v in [1.0, 0.8, 0.9, 0.5, 0.6]])
    assert [p.rsplit("/", 1)[-1] for p in model.saved] == ["best-1.npz", "best-2.npz",
                                                           "best-4.npz"]
    assert checkpoint.best == 0.5


def test_model_checkpoint_max_mode_and_threshold(tmp_path):
    model = LinearRegressor()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m.npz"), monitor="val_accuracy",
                                           save_best_only=True, initial_value_threshold=0.65)
    run_scripted(checkpoint, model, [{"val_accuracy": v} for v in [0.6, 0.7, 0.68, 0.9]])
    assert len(model.saved) == 2


def test_model_checkpoint_bad_key(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.npz"))
    with pytest.raises(ValueError, match=r"Failed to format.*val_acc.*available keys are epoch, "
                                         r"val_loss"):
        run_scripted(checkpoint, LinearRegressor(), [{"val_loss": 1.0}])


def test_learning_rate_scheduler_drives_the_optimizer():
    x, y = _data()
    model = LinearRegressor(learning_rate=0.1)
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return lr * 0.5 if epoch > 0 else lr

    history = model.fit(x, y, epochs=3,
                        callbacks_list=[callbacks.LearningRateScheduler(schedule)])
    assert seen == [0.1, 0.1, 0.05]
    assert model.optimizer.learning_rate == 0.025
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]


def test_learning_rate_scheduler_one_argument_schedule_changes_steps():
    model = LinearRegressor(learning_rate=1.0)
    scheduler = callbacks.LearningRateScheduler(lambda epoch: 0.0)
    x, y = _data()
    model.fit(x, y, epochs=2, callbacks_list=[scheduler])
    np.testing.assert_array_equal(model.w, np.zeros((2, 1)))  # a zero rate never moves w


def test_learning_rate_scheduler_rejects_non_numbers():
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    scheduler.set_model(LinearRegressor())
    with pytest.raises(ValueError, match=r"should be a finite float\. Got: 'fast'"):
        scheduler.on_epoch_begin(0)
    with pytest.raises(TypeError, match="schedule must be callable"):
        callbacks.LearningRateScheduler(0.1)


def test_csv_logger_writes_sorted_columns_with_val_twins(tmp_path):
    path = tmp_path / "log.csv"
    x, y = _data()
    LinearRegressor().fit(x, y, epochs=2, callbacks_list=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert rows[1][2] == "NA"
    assert float(rows[2][1]) < float(rows[1][1])


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    x, y = _data()
    xv, yv = _data(4, seed=3)
    for _ in range(2):
        logger = callbacks.CSVLogger(path, separator="\t", append=True)
        LinearRegressor().fit(x, y, epochs=2, callbacks_list=[logger], validation_data=(xv, yv))
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch\tloss\tval_loss"
    assert len(lines) == 5  # one header, four epochs
    overwrite = callbacks.CSVLogger(path, separator="\t")
    LinearRegressor().fit(x, y, epochs=1, callbacks_list=[overwrite], validation_data=(xv, yv))
    assert len(path.read_text().splitlines()) == 2


def test_terminate_on_nan_stops_within_the_epoch():
    x, y = _data()
    model = LinearRegressor()

    def batch_loss(epoch, step):
        return float("nan") if (epoch, step) == (1, 2) else 1.0

    history = model.fit(x, y, epochs=5, callbacks_list=[callbacks.TerminateOnNaN()],
                        batch_logs=batch_loss)
    assert history.epoch == [0, 1]
    assert model.optimizer.iterations == 4 + 3  # stopped right after the bad batch


def test_base_callback_hooks_and_batch_aliases():
    class Counter(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_batch_end(self, batch, logs=None):
            self.batches += 1

    counter = Counter()
    x, y = _data()
    LinearRegressor().fit(x, y, epochs=2, callbacks_list=[counter])
    assert counter.batches == 8
    assert counter.params["steps"] == 4


# ---- with the real Sequential.fit ---------------------------------------------------------

def _classifier(learning_rate=0.1):
    from cnnkit import layers, models, utils

    utils.set_random_seed(0)
    model = models.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _classes(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def test_sequential_fit_with_all_callbacks(tmp_path):
    from cnnkit import models

    model = _classifier()
    x, y = _classes(64, 0)
    pattern = str(tmp_path / "ckpt-{epoch}.cnnkit")
    chain = [
        callbacks.ModelCheckpoint(pattern),
        callbacks.CSVLogger(tmp_path / "log.csv"),
        # After epoch 0 the rate drops to zero, so the later epochs cannot move the weights.
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 if epoch == 0 else 0.0),
    ]
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=chain,
                        validation_data=_classes(16, 1))
    assert sorted(history.history) == ["accuracy", "learning_rate", "loss", "val_accuracy",
                                       "val_loss"]
    assert history.history["learning_rate"] == [0.1, 0.0, 0.0]
    first, last = models.load_model(tmp_path / "ckpt-1.cnnkit"), models.load_model(
        tmp_path / "ckpt-3.cnnkit")
    for a, b in zip(first.get_weights(), last.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert float(rows[2]["val_loss"]) == pytest.approx(history.history["val_loss"][2])


def test_sequential_early_stopping_restores_best_weights(tmp_path):
    from cnnkit import models

    model = _classifier()
    x, y = _classes(64, 2)
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.cnnkit"))
    # No later epoch can beat the first by 100, so training stops after the second epoch
    # and the first epoch's weights come back.
    stopper = callbacks.EarlyStopping(monitor="loss", min_delta=100, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0,
                        callbacks=[stopper, checkpoint])
    assert history.epoch == [0, 1]
    best = models.load_model(tmp_path / "m-1.cnnkit").get_weights()
    for a, b in zip(best, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    moved = models.load_model(tmp_path / "m-2.cnnkit").get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(best, moved))


def test_sequential_early_stopping_on_val_accuracy_stops():
    model = _classifier(learning_rate=0.0)  # nothing improves, so patience runs out
    x, y = _classes(32, 3)
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=2)
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0, callbacks=[stopper],
                        validation_split=0.25)
    assert history.epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 2

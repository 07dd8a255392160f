"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

Forward runs the layers in order, backward in reverse. Training steps go through
cnnkit.models.training; this file holds the structure (layers, shapes, weights, config).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnnkit.layers import Layer, deserialize, serialize
from cnnkit.layers.base import format_shape, unique_name
from cnnkit.layers.core import InputLayer
from cnnkit.models import summary as summary_module
from cnnkit.models import training

__all__ = ["Sequential"]


class Sequential:
    """A linear stack of layers (Keras's keras.Sequential)."""

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None) -> None:
        self.name = name or unique_name("Sequential")
        self._layers: list[Layer] = []
        self._batch_input_shape: tuple | None = None
        self.optimizer = None
        self.loss = None
        self.metrics: list = []
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_config: dict | None = None
        self._loss_weight = 1.0
        self._fused_activation: str | None = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------ structure

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (an Input only sets the shape and is not listed, as in Keras)."""
        return list(self._layers)

    @property
    def built(self) -> bool:
        return self._batch_input_shape is not None

    @property
    def input_shape(self) -> tuple | None:
        return self._batch_input_shape

    @property
    def output_shape(self) -> tuple | None:
        return self._layers[-1].output_shape if self._layers and self.built else None

    def add(self, layer: Layer) -> None:
        """Appends a layer; builds it at once when the input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a cnnkit layer, got {type(layer).__name__}: {layer!r}"
            )
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An Input must come first in a Sequential model")
            self._batch_input_shape = layer.shape
            return
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f'All layers added to a Sequential model should have unique names; "{layer.name}" '
                "is already in the model"
            )
        if not self._layers and self._batch_input_shape is None:
            self._batch_input_shape = layer.batch_input_shape
        previous = self._layers[-1].output_shape if self._layers else self._batch_input_shape
        if previous is not None:
            layer.build_for(previous)
        self._layers.append(layer)

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Builds every layer for inputs of `input_shape` (batch dim first, may be None)."""
        if not self._layers:
            raise ValueError("Cannot build an empty Sequential model; add layers first")
        shape = (None, *tuple(input_shape)[1:])
        self._batch_input_shape = shape
        for layer in self._layers:
            layer.build_for(shape)
            shape = layer.output_shape

    def check_input(self, x: object) -> np.ndarray:
        """The input in the model's dtype; builds on first use; ValueError on a shape mismatch.

        Like Keras, the model computes in its layers' dtype (float32 unless the layers were
        made with dtype="float64"): `x / 255.0` (float64) or uint8 images are cast once here
        rather than making every layer compute in float64.
        """
        x = training.as_input_array(x)
        if not self._layers:
            raise ValueError(f'Model "{self.name}" has no layers')
        if x.dtype != self._layers[0].dtype:
            x = x.astype(self._layers[0].dtype)
        if not self.built:
            self.build(x.shape)
        expected = self._batch_input_shape
        if x.ndim != len(expected) or x.shape[1:] != tuple(expected[1:]):
            raise ValueError(
                f'Input of model "{self.name}" is incompatible: expected shape='
                f"{format_shape(expected)}, found shape={format_shape(x.shape)}"
            )
        return x

    # ------------------------------------------------------------ forward and backward

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Runs the layers in order (x already checked)."""
        for layer in self._layers:
            x = layer.call(x, training=training)
        return x

    def backward(self, dy: np.ndarray) -> None:
        """Runs backward in reverse down to the first layer with trainable weights.

        That layer gets input_grad=False: no layer below needs a gradient.
        """
        first = self._first_trainable_index()
        for index, layer in enumerate(self._layers):
            layer.input_grad = index > first
        for layer in reversed(self._layers[max(first, 0) :]):
            dy = layer.backward(dy)

    def _first_trainable_index(self) -> int:
        for index, layer in enumerate(self._layers):
            if layer.trainable_weights:
                return index
        return len(self._layers)

    def __call__(self, x: object, training: bool = False) -> np.ndarray:
        return self.forward(self.check_input(x), training=training)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    @property
    def weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.weights]

    def gradients(self) -> list[np.ndarray]:
        """The last backward's gradients, aligned with trainable_weights."""
        return [g for layer in self._layers if layer.trainable_weights for g in layer.grads]

    def regularization_loss(self) -> float:
        return sum(layer.regularization_loss() for layer in self._layers)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's weights, layer by layer in Keras order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Sets every weight from a list shaped like get_weights()."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError(
                f'Model "{self.name}" expects {expected} weight arrays, got {len(weights)}'
            )
        start = 0
        for layer in self._layers:
            count = len(layer.weights)
            layer.set_weights(weights[start : start + count])
            start += count

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self._layers)

    def summary(
        self,
        line_length: int | None = None,
        print_fn: Callable[[str], object] | None = None,
        explain: bool = False,
    ) -> None:
        """Prints the Keras 3 table: layers, output shapes, parameter counts and sizes.

        explain=True adds per layer the padding applied, the receptive field and the
        multiply-accumulates (see cnnkit.visualize.explain).
        """
        summary_module.print_summary(
            self, line_length=line_length, print_fn=print_fn, explain=explain
        )

    # ------------------------------------------------------------ training (see training.py)

    def compile(
        self,
        optimizer: object = "rmsprop",
        loss: object = None,
        loss_weights: object = None,
        metrics: object = None,
    ) -> None:
        """Sets the optimizer, the loss and the metrics (Keras strings or instances)."""
        training.compile_model(self, optimizer, loss, loss_weights, metrics)

    def fit(
        self,
        x: object = None,
        y: object = None,
        batch_size: int | None = 32,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence | None = None,
        validation_split: float = 0.0,
        validation_data: tuple | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ):
        """Trains for `epochs` epochs and returns the History (see cnnkit.models.training.fit)."""
        return training.fit(
            self,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
        )

    def evaluate(
        self,
        x: object = None,
        y: object = None,
        batch_size: int | None = 32,
        verbose: int | str = "auto",
        return_dict: bool = False,
    ):
        """The loss, or [loss, *metrics] when metrics were compiled (dict with return_dict)."""
        return training.evaluate(self, x, y, batch_size, verbose, return_dict)

    def predict(self, x: object, batch_size: int | None = 32, verbose: int | str = "auto"):
        """The outputs for x, computed in batches (inference mode: no dropout)."""
        return training.predict(self, x, batch_size, verbose)

    def train_on_batch(self, x: object, y: object, return_dict: bool = False):
        """One optimizer step on exactly this batch; the loss (and metrics) of that batch."""
        return training.train_on_batch(self, x, y, return_dict)

    def test_on_batch(self, x: object, y: object, return_dict: bool = False):
        """The loss (and metrics) of this batch, without updating anything."""
        return training.evaluate_batch(self, x, y, return_dict)

    # ------------------------------------------------------------ config and saving

    def get_config(self) -> dict:
        """The architecture: name, input shape and each layer's serialized config."""
        return {
            "name": self.name,
            "batch_input_shape": None
            if self._batch_input_shape is None
            else list(self._batch_input_shape),
            "layers": [serialize(layer) for layer in self._layers],
        }

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        model = cls(name=config.get("name"))
        for layer_config in config["layers"]:
            model.add(deserialize(layer_config))
        if config.get("batch_input_shape") is not None:
            model.build(config["batch_input_shape"])
        return model

    def save(self, filepath: str) -> None:
        """Writes architecture, weights, compile settings and optimizer state to one file."""
        from cnnkit.models import saving

        saving.save_model(self, filepath)

"""Helpers for layer tests: float64 central-difference gradient checks (sum(y * r) objective)."""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def _numeric_gradient(f, array: np.ndarray) -> np.ndarray:
    """d f / d array by central differences, perturbing `array` in place."""
    grad = np.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + EPS
        plus = f()
        flat[i] = saved - EPS
        minus = f()
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * EPS)
    return grad


def check_gradients(
    layer,
    x: np.ndarray,
    training: bool = False,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> None:
    """Compares backward's dx and weight gradients with central differences in float64.

    The scalar is sum(y * r) for a fixed random r, so every output element contributes
    with its own weight.
    """
    assert x.dtype == np.float64
    layer.build_for(x.shape)
    y = layer.call(x.copy(), training=training)
    r = np.random.default_rng(seed).standard_normal(y.shape)
    layer.input_grad = True
    dx = layer.backward(r)
    grads = [g.copy() for g in layer.grads]

    def objective() -> float:
        return float(np.sum(layer.call(x, training=training) * r))

    np.testing.assert_allclose(dx, _numeric_gradient(objective, x), rtol=rtol, atol=atol)
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        np.testing.assert_allclose(grad, _numeric_gradient(objective, weight), rtol=rtol, atol=atol)

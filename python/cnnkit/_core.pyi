"""Type stubs of the compiled core. User code calls cnnkit.ops, which normalises arguments."""

from collections.abc import Sequence

import numpy as np

def conv2d_forward(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    strides: Sequence[int],
    padding: str,
    dilation_rate: Sequence[int],
    relu: bool,
) -> np.ndarray: ...
def conv2d_backward(
    x: np.ndarray,
    kernel: np.ndarray,
    grad_output: np.ndarray,
    strides: Sequence[int],
    padding: str,
    dilation_rate: Sequence[int],
    input_grad: bool,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]: ...
def conv2d_backward_input(
    x: np.ndarray,
    kernel: np.ndarray,
    grad_output: np.ndarray,
    strides: Sequence[int],
    padding: str,
    dilation_rate: Sequence[int],
) -> np.ndarray: ...
def max_pool2d_forward(
    x: np.ndarray, pool_size: Sequence[int], strides: Sequence[int], padding: str
) -> np.ndarray: ...
def max_pool2d_backward(
    x: np.ndarray,
    grad_output: np.ndarray,
    pool_size: Sequence[int],
    strides: Sequence[int],
    padding: str,
) -> np.ndarray: ...
def avg_pool2d_forward(
    x: np.ndarray, pool_size: Sequence[int], strides: Sequence[int], padding: str
) -> np.ndarray: ...
def avg_pool2d_backward(
    x: np.ndarray,
    grad_output: np.ndarray,
    pool_size: Sequence[int],
    strides: Sequence[int],
    padding: str,
) -> np.ndarray: ...
def matmul(
    a: np.ndarray,
    b: np.ndarray,
    bias: np.ndarray | None = None,
    trans_a: bool = False,
    trans_b: bool = False,
    relu: bool = False,
) -> np.ndarray: ...
def filter2d(
    x: np.ndarray,
    kernel: np.ndarray,
    output_shape: Sequence[int],
    pads: Sequence[int],
    boundary: str,
    fillvalue: float,
) -> np.ndarray: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def available_isas() -> list[str]: ...
def active_isa() -> str: ...
def set_isa(isa: str) -> None: ...
def get_winograd() -> bool: ...
def set_winograd(enabled: bool) -> None: ...
def workspace_allocations() -> int: ...

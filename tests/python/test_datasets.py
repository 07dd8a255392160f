"""Dataset loaders: small MNIST and CIFAR files written here in the real formats, the real
Fashion-MNIST files Debian installs, the lookup order, downloads with sha256 checks from
file:// URLs, the offline error, malformed files and pickles that try to run code."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from cnnkit.datasets import _fetch, cifar10, fashion_mnist, mnist

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = (*[f"data_batch_{i}" for i in range(1, 6)], "test_batch")


@pytest.fixture(autouse=True)
def isolated_lookup(tmp_path, monkeypatch):
    """Empty HOME and system folder, no $CNNKIT_DATA: only what a test puts there is found."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CNNKIT_DATA", raising=False)
    monkeypatch.setattr(_fetch, "SYSTEM_ROOT", tmp_path / "system")
    return home


def idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x08 << 8) | array.ndim if magic is None else magic
    return (struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
            + array.tobytes())


def write_mnist(folder, n_train=5, n_test=3, compress=True, seed=0):
    """Four IDX files of random 28x28 images and labels; returns the arrays."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train),
              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test)]
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(MNIST_FILES, arrays):
        data = idx_bytes(array)
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return [a.astype(np.uint8) for a in arrays]


def assert_mnist_equal(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


# ---- MNIST format ------------------------------------------------------------------------

def test_mnist_from_path_gzip(tmp_path):
    arrays = write_mnist(tmp_path / "data")
    loaded = mnist.load_data(path=tmp_path / "data")
    assert_mnist_equal(loaded, arrays)
    assert loaded[0][0].shape == (5, 28, 28)
    assert loaded[0][1].shape == (5,)
    assert loaded[0][0].flags.writeable


def test_mnist_plain_files(tmp_path):
    arrays = write_mnist(tmp_path / "plain", compress=False)
    assert_mnist_equal(mnist.load_data(path=str(tmp_path / "plain")), arrays)


def test_lookup_order(tmp_path, isolated_lookup, monkeypatch):
    from_path = write_mnist(tmp_path / "given", seed=1)
    from_env = write_mnist(tmp_path / "root" / "mnist", seed=2)
    from_home = write_mnist(isolated_lookup / ".cnnkit" / "datasets" / "mnist", seed=3)
    from_system = write_mnist(tmp_path / "system" / "mnist", seed=4)
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "root"))
    assert_mnist_equal(mnist.load_data(path=tmp_path / "given"), from_path)
    assert_mnist_equal(mnist.load_data(), from_env)
    # A path= folder without the files is passed over, as is an unset $CNNKIT_DATA.
    assert_mnist_equal(mnist.load_data(path=tmp_path / "empty"), from_env)
    monkeypatch.delenv("CNNKIT_DATA")
    assert_mnist_equal(mnist.load_data(), from_home)
    for name in MNIST_FILES:
        (isolated_lookup / ".cnnkit" / "datasets" / "mnist" / f"{name}.gz").unlink()
    assert_mnist_equal(mnist.load_data(), from_system)


def test_folder_missing_one_file_is_skipped(tmp_path, monkeypatch):
    write_mnist(tmp_path / "partial")
    (tmp_path / "partial" / "t10k-labels-idx1-ubyte.gz").unlink()
    complete = write_mnist(tmp_path / "system" / "mnist", seed=9)
    assert_mnist_equal(mnist.load_data(path=tmp_path / "partial"), complete)


@pytest.mark.parametrize(
    ("file_index", "content", "message"),
    [(0, idx_bytes(np.zeros((5, 28, 28)), magic=0x00000804), r"bad IDX magic number 0x00000804"),
     (1, idx_bytes(np.zeros((5, 28, 28))), r"bad IDX magic number 0x00000803, expected "
                                           r"0x00000801"),
     (0, idx_bytes(np.zeros((5, 28, 28)))[:-10], r"truncated: its header gives shape "
                                                 r"\(5, 28, 28\) = 3920 bytes.*holds 3910"),
     (1, idx_bytes(np.zeros(5)) + b"\x00", r"too long.*\(5,\) = 5 bytes.*holds 6"),
     (0, idx_bytes(np.zeros((5, 27, 28))), r"images have shape \(27, 28\), expected \(28, 28\)"),
     (1, idx_bytes(np.zeros(4)), r"holds 5 images but .*train-labels-idx1-ubyte holds 4"),
     (0, b"\x00\x00", r"truncated IDX file of 2 bytes"),
     (0, idx_bytes(np.zeros((5, 28, 28)))[:9], r"truncated IDX header \(9 of 16 bytes\)")],
)
def test_malformed_idx_files(tmp_path, file_index, content, message):
    write_mnist(tmp_path / "bad", compress=False)
    target = tmp_path / "bad" / MNIST_FILES[file_index]
    target.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        mnist.load_data(path=tmp_path / "bad")
    assert str(target) in str(info.value)


def test_corrupt_gzip_names_file(tmp_path):
    write_mnist(tmp_path / "gz")
    target = tmp_path / "gz" / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz: corrupt or truncated gzip"):
        mnist.load_data(path=tmp_path / "gz")


# ---- Fashion-MNIST, the real files Debian installs ---------------------------------------

def test_fashion_mnist_real_debian_files(monkeypatch):
    monkeypatch.setattr(_fetch, "SYSTEM_ROOT", Path("/usr/share/datasets"))
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, y_test.shape) == ((10000, 28, 28), (10000,))
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    np.testing.assert_array_equal(y_test[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    assert y_train[0] == 9  # the first training image is an ankle boot
    assert x_train.mean() / 255 == pytest.approx(0.2860, abs=1e-4)  # the published mean


# ---- downloads ---------------------------------------------------------------------------

def test_offline_error_lists_every_place(tmp_path, isolated_lookup, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "root"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data(path=tmp_path / "given")
    message = str(info.value)
    assert "network is unreachable" in message
    assert "train-images-idx3-ubyte.gz" in message
    for folder in (tmp_path / "given", tmp_path / "root" / "mnist",
                   isolated_lookup / ".cnnkit" / "datasets" / "mnist",
                   tmp_path / "system" / "mnist"):
        assert f"  {folder}\n" in message + "\n"


def test_download_checks_sha256(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3000))
    good = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "cache" / "file.bin"
    with pytest.raises(ValueError, match=rf"Checksum mismatch for {source.as_uri()}: expected "
                                         rf"sha256 {'0' * 64}, got {good}"):
        _fetch.download_file(source.as_uri(), target, "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the partial file is gone too
    assert _fetch.download_file(source.as_uri(), target, good) == target
    assert target.read_bytes() == source.read_bytes()


def _serve_mnist(tmp_path, monkeypatch, corrupt_sum=False):
    arrays = write_mnist(tmp_path / "server", seed=5)
    sums = {f"{name}.gz": hashlib.sha256((tmp_path / "server" / f"{name}.gz").read_bytes())
            .hexdigest() for name in MNIST_FILES}
    if corrupt_sum:
        sums["t10k-labels-idx1-ubyte.gz"] = "f" * 64
    monkeypatch.setattr(mnist, "BASE_URL", (tmp_path / "server").as_uri() + "/")
    monkeypatch.setattr(mnist, "SHA256", sums)
    return arrays


def test_load_data_downloads_into_home_cache(tmp_path, isolated_lookup, monkeypatch):
    arrays = _serve_mnist(tmp_path, monkeypatch)
    assert_mnist_equal(mnist.load_data(), arrays)
    cache = isolated_lookup / ".cnnkit" / "datasets" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)
    monkeypatch.setattr(mnist, "BASE_URL", "file:///nonexistent/")
    assert_mnist_equal(mnist.load_data(), arrays)  # found in the cache, nothing downloaded


def test_load_data_rejects_a_download_with_the_wrong_sum(tmp_path, isolated_lookup, monkeypatch):
    _serve_mnist(tmp_path, monkeypatch, corrupt_sum=True)
    with pytest.raises(ValueError, match=r"Checksum mismatch for .*t10k-labels-idx1-ubyte\.gz"):
        mnist.load_data()
    cache = isolated_lookup / ".cnnkit" / "datasets" / "mnist"
    assert not (cache / "t10k-labels-idx1-ubyte.gz").exists()


def test_canonical_sources_are_pinned():
    assert mnist.BASE_URL.startswith("https://")
    assert cifar10.URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    for sums in (mnist.SHA256, fashion_mnist.SHA256, {"archive": cifar10.SHA256}):
        for value in sums.values():
            assert len(value) == 64
            int(value, 16)
    assert set(mnist.SHA256) == set(fashion_mnist.SHA256) == {f"{n}.gz" for n in MNIST_FILES}


# ---- CIFAR-10 ----------------------------------------------------------------------------

def cifar_batch_bytes(data, labels, numpy_module=None):
    """A batch pickled at protocol 2 with bytes keys, like the original Python 2 files."""
    payload = pickle.dumps({b"batch_label": b"training batch", b"labels": list(labels),
                            b"data": data, b"filenames": [b"img.png"] * len(labels)},
                           protocol=2)
    if numpy_module is not None:  # files written by older numpy name numpy.core
        payload = payload.replace(b"numpy._core.multiarray", numpy_module.encode())
    return payload


def python2_batch_bytes(data, labels):
    """A batch as Python 2's cPickle wrote the original files: protocol 2, str (not unicode)
    keys, numpy.core names, typecodes and raw data as byte strings."""

    def string(value):
        return (b"U" + bytes([len(value)]) + value if len(value) < 256
                else b"T" + struct.pack("<I", len(value)) + value)

    def small_int(value):
        return b"K" + bytes([value]) if value < 256 else b"M" + struct.pack("<H", value)

    dtype = (b"cnumpy\ndtype\n" + string(b"u1") + small_int(0) + small_int(1) + b"\x87R"
             + b"(" + small_int(3) + string(b"|") + b"NNN" + b"J\xff\xff\xff\xff" * 2
             + small_int(0) + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + small_int(0)
             + b"\x85" + string(b"b") + b"\x87R"
             + b"(" + small_int(1) + small_int(data.shape[0]) + small_int(data.shape[1])
             + b"\x86" + dtype + b"\x89" + string(data.tobytes()) + b"tb")
    label_list = b"](" + b"".join(small_int(v) for v in labels) + b"e"
    return (b"\x80\x02}(" + string(b"data") + array + string(b"labels") + label_list
            + string(b"batch_label") + string(b"training batch 1 of 5") + b"u.")


def test_cifar10_reads_python2_pickles(tmp_path):
    batches = write_cifar(tmp_path / "cifar", seed=4)
    data = np.random.default_rng(8).integers(0, 256, (3, 3072)).astype(np.uint8)
    (tmp_path / "cifar" / "test_batch").write_bytes(python2_batch_bytes(data, [7, 0, 9]))
    (x_train, _), (x_test, y_test) = cifar10.load_data(path=tmp_path / "cifar")
    np.testing.assert_array_equal(x_test, expected_images(data))
    np.testing.assert_array_equal(y_test, [[7], [0], [9]])
    assert x_train.shape[0] == 5 * len(batches[0][1])


def write_cifar(folder, per_batch=4, seed=0, numpy_module=None):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = []
    for name in CIFAR_FILES:
        data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        (folder / name).write_bytes(cifar_batch_bytes(data, labels, numpy_module))
        batches.append((data, labels))
    return batches


def expected_images(data):
    """Channels-last images from rows of 1024 red, 1024 green, 1024 blue values."""
    n = len(data)
    images = np.empty((n, 32, 32, 3), dtype=np.uint8)
    for c in range(3):
        images[..., c] = data[:, c * 1024:(c + 1) * 1024].reshape(n, 32, 32)
    return images


@pytest.mark.parametrize("numpy_module", [None, "numpy.core.multiarray"])
def test_cifar10_loads_batches(tmp_path, numpy_module):
    batches = write_cifar(tmp_path / "cifar", numpy_module=numpy_module)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=tmp_path / "cifar")
    assert (x_train.shape, x_train.dtype) == ((20, 32, 32, 3), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((20, 1), np.uint8)
    assert (x_test.shape, y_test.shape) == ((4, 32, 32, 3), (4, 1))
    assert x_train.flags.c_contiguous
    np.testing.assert_array_equal(x_train, expected_images(np.concatenate(
        [data for data, _ in batches[:5]])))
    np.testing.assert_array_equal(y_train.ravel(),
                                  np.concatenate([labels for _, labels in batches[:5]]))
    np.testing.assert_array_equal(x_test, expected_images(batches[5][0]))
    np.testing.assert_array_equal(y_test.ravel(), batches[5][1])
    # One pixel by hand: image 0, row 1, column 2, green = data[0, 1024 + 1*32 + 2].
    assert x_train[0, 1, 2, 1] == batches[0][0][0, 1024 + 32 + 2]


def test_cifar10_from_cnnkit_data(tmp_path, monkeypatch):
    write_cifar(tmp_path / "root" / "cifar-10-batches-py")
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "root"))
    assert cifar10.load_data()[0][0].shape == (20, 32, 32, 3)


class _RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_refuses_pickles_that_run_code(tmp_path):
    write_cifar(tmp_path / "cifar")
    marker = tmp_path / "marker"
    evil = pickle.dumps({b"data": _RunsCommand(marker), b"labels": []}, protocol=2)
    (tmp_path / "cifar" / "data_batch_3").write_bytes(evil)
    with pytest.raises(ValueError, match=r"data_batch_3: not a valid CIFAR python batch.*"
                                         r"global (posix|os)\.system is not allowed"):
        cifar10.load_data(path=tmp_path / "cifar")
    assert not marker.exists()
    assert b"system" in evil  # pickle.load would have run it


class _CallsNdarray:
    def __reduce__(self):
        return (np.ndarray, ((1 << 40,),))


def test_cifar10_refuses_to_call_numpy_constructors(tmp_path):
    write_cifar(tmp_path / "cifar")
    payload = pickle.dumps({b"data": _CallsNdarray(), b"labels": [0]}, protocol=2)
    (tmp_path / "cifar" / "data_batch_1").write_bytes(payload)
    with pytest.raises(ValueError, match="data_batch_1: not a valid CIFAR python batch"):
        cifar10.load_data(path=tmp_path / "cifar")


def test_cifar10_refuses_object_arrays(tmp_path):
    write_cifar(tmp_path / "cifar")
    payload = pickle.dumps({b"data": np.array([1, "x"], dtype=object), b"labels": [0]},
                           protocol=2)
    (tmp_path / "cifar" / "test_batch").write_bytes(payload)
    with pytest.raises(ValueError, match="test_batch: not a valid CIFAR python batch"):
        cifar10.load_data(path=tmp_path / "cifar")


@pytest.mark.parametrize(
    ("make", "message"),
    [(lambda: cifar_batch_bytes(np.zeros((4, 3072), np.uint8), [0, 1, 2, 3])[:-40],
      r"not a valid CIFAR python batch"),
     (lambda: cifar_batch_bytes(np.zeros((4, 3000), np.uint8), [0, 1, 2, 3]),
      r"'data' must be a uint8 array \(N, 3072\), got uint8 \(4, 3000\)"),
     (lambda: cifar_batch_bytes(np.zeros((4, 3072), np.uint8), [0, 1, 2]),
      r"4 images need as many integer labels, got int64 \(3,\)"),
     (lambda: cifar_batch_bytes(np.zeros((2, 3072), np.uint8), [0, 10]),
      r"labels must be in 0\.\.9, got 0\.\.10"),
     (lambda: pickle.dumps([1, 2, 3], protocol=2), r"expected a pickled dict, got list")],
)
def test_cifar10_malformed_batches(tmp_path, make, message):
    write_cifar(tmp_path / "cifar")
    (tmp_path / "cifar" / "data_batch_2").write_bytes(make())
    with pytest.raises(ValueError, match=message) as info:
        cifar10.load_data(path=tmp_path / "cifar")
    assert "data_batch_2" in str(info.value)


def test_cifar10_download_extracts_only_the_batches(tmp_path, isolated_lookup, monkeypatch):
    batches = write_cifar(tmp_path / "batches", seed=3)
    archive = tmp_path / "server" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in CIFAR_FILES:
            tar.add(tmp_path / "batches" / name, arcname=f"cifar-10-batches-py/{name}")
        hostile = tarfile.TarInfo("../../escaped")
        hostile.size = 4
        tar.addfile(hostile, io.BytesIO(b"evil"))
    monkeypatch.setattr(cifar10, "URL", archive.as_uri())
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    (x_train, _), (x_test, _) = cifar10.load_data()
    np.testing.assert_array_equal(x_test, expected_images(batches[5][0]))
    assert x_train.shape == (20, 32, 32, 3)
    cache = isolated_lookup / ".cnnkit" / "datasets" / "cifar-10-batches-py"
    assert sorted(p.name for p in cache.iterdir()) == sorted(CIFAR_FILES)  # archive removed
    assert not any(Path(tmp_path).rglob("escaped"))

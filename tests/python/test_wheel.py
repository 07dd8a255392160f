"""`pip wheel .` builds a wheel that installs into a fresh virtual environment and imports."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_environment(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("cnnkit-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True)
    code = (
        "import cnnkit, numpy as np; "
        "y = cnnkit.ops.conv2d(np.ones((1,5,5,1),'f'), np.ones((3,3,1,1),'f'), padding='same'); "
        "print(int(y.sum()), cnnkit.__file__)"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True,
                         cwd=tmp_path).stdout.split()
    assert out[0] == "169"  # 4*4 + 12*6 + 9*9: the neighbourhood counts of a 5x5 image
    assert str(env_dir) in out[1]

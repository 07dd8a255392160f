# Sourced by the two entry scripts: installs the Debian packages and the package itself into
# .venv (created on first use). Re-running it is cheap when everything is in place.

debian_packages=(libgtest-dev dataset-fashion-mnist ninja-build)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== Installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "== Creating .venv"
  python3 -m venv .venv
fi
echo "== Installing cnnkit into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check ".[test]"

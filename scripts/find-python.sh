#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 needs Python < 3.11).
# Tries pyenv's installs first (its `python3.10` shim alone fails on these machines),
# then any python3.10 on PATH.
set -u
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.10*/bin/python3.10; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -x "$p" ] && candidates+=("$p")
done
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
for p in "${candidates[@]}"; do
  if "$p" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    echo "$p"; exit 0
  fi
done
echo "No working Python 3.10 found. Install it (e.g. 'pyenv install 3.10.13' or your OS's python3.10 package)." >&2
exit 1

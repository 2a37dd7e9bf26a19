#!/usr/bin/env sh
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs 3.8-3.10; this project pins 3.10).
# Looks on PATH first, then among pyenv's installed versions. Exits 1 with a clear message if absent.
works() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

for candidate in python3.10 python3 python; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if works "$path"; then echo "$path"; exit 0; fi
done

root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV); do
  if works "$path"; then echo "$path"; exit 0; fi
done

echo "error: Python 3.10 is required (Rasa Open Source 3.6 runs on Python 3.8-3.10) but none was found." >&2
echo "Install it (e.g. 'pyenv install 3.10' or your distribution's python3.10 package) and run make again." >&2
exit 1

# Sourced by scripts/setup-*.sh, from the clone's root: the shared steps of
# installing a pinned native library into the cache folder outside the
# clone.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
set -euo pipefail
cache="${EAGER_TENSOR_CACHE:-$HOME/.cache/eager-tensor}"

# install_pinned NAME DEST SIZE REQ [fetch.py arguments...]
# Unless DEST holds a finished install, fetches the wheels pinned (with
# their sha256) in scripts/native/REQ into $cache/wheels, unpacks what the
# arguments select into DEST.tmp, runs `finish_install DEST.tmp` if the
# calling script defines it, and moves DEST.tmp to DEST. Idempotent.
install_pinned() {
  local name="$1" dest="$2" size="$3" req="$4"
  shift 4
  [ -f "$dest/.complete" ] && return 0
  echo "setup-$name: fetching the pinned wheels into $cache/wheels ($size the first time)"
  rm -rf "$dest.tmp"
  python3 scripts/native/fetch.py --req "scripts/native/$req" --wheels "$cache/wheels" \
    --dest "$dest.tmp" "$@"
  if declare -F finish_install >/dev/null; then finish_install "$dest.tmp"; fi
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}

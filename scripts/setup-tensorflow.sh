#!/usr/bin/env bash
# Installs the TensorFlow 2.13.1 C library (from the PyPI tensorflow-cpu
# wheel) into the cache folder outside the clone, writes the pkg-config file
# tensorflow-sys looks for, and links .native/tensorflow to it. Idempotent.
#
#   EAGER_TENSOR_CACHE   cache folder (default: ~/.cache/eager-tensor)
cd "$(dirname "$0")/.."
source scripts/native/install.sh
dest="$cache/libtensorflow-2.13.1"
# The names tensorflow-sys links against, beside the wheel's libraries.
finish_install() {
  mkdir -p "$1/lib/pkgconfig"
  ln -s libtensorflow_cc.so.2 "$1/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$1/lib/libtensorflow_framework.so"
}
# The wheel is for CPython 3.11 on manylinux2014; only its C library is used.
install_pinned tensorflow "$dest" "about 190 MB" tensorflow.txt \
  --python-version 3.11 --platform manylinux2014_x86_64 \
  --file tensorflow/libtensorflow_cc.so.2=lib/libtensorflow_cc.so.2 \
  --file tensorflow/libtensorflow_framework.so.2=lib/libtensorflow_framework.so.2
# The pkg-config file names the real path (the cache may move between machines).
cat > "$dest/lib/pkgconfig/tensorflow.pc" <<PC
libdir=$dest/lib
Name: tensorflow
Description: TensorFlow 2.13.1 C API (from the tensorflow-cpu wheel)
Version: 2.13.1
Libs: -L\${libdir} -ltensorflow -ltensorflow_framework
Cflags:
PC
# The link .cargo/config.toml reads, inside the clone only (see
# setup-torch.sh).
if [ "${EAGER_TENSOR_NATIVE_LINKS:-1}" != 0 ]; then
  mkdir -p .native
  ln -sfn "$dest" .native/tensorflow
fi
echo "setup-tensorflow: libtensorflow 2.13.1 ready at $dest"

// libtorch adopts foreign host memory without a copy: a contiguous CPU
// tensor over `data` whose storage calls `release(ctx)` when libtorch frees
// it, that is when the last tensor or view sharing the storage is gone.
// tch only wraps `from_blob` without a deleter, so eager-torch compiles this
// (build.rs) with the headers and flags torch-sys compiles tch's wrapper
// with. The returned `at::Tensor*` is tch's C tensor handle (torch_api.h:
// `typedef torch::Tensor *tensor`), for `tch::Tensor::from_ptr`.
//
// Only the smallest header that declares `at::for_blob`, to keep the
// compile short.
#include <ATen/ops/from_blob.h>
#include <ATen/Version.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>

extern "C" {

typedef void (*eager_torch_release_fn)(void *ctx);

// `ndims` sizes at `dims`; `scalar_type` is a c10::ScalarType. `release(ctx)`
// runs exactly once on every path: when libtorch frees the storage, or
// before this returns null on an error. On an error `*err` is a message to
// free with eager_torch_free_error (or null if even that failed). No C++
// exception leaves this function.
at::Tensor *eager_torch_adopt(void *data, const int64_t *dims, size_t ndims,
                              int scalar_type, eager_torch_release_fn release,
                              void *ctx, char **err) {
  *err = nullptr;
  // Owns `ctx` until the storage does, so an exception anywhere releases it.
  std::unique_ptr<void, eager_torch_release_fn> guard(ctx, release);
  // TensorOptions::dtype is noexcept: an unknown type would terminate.
  if (scalar_type < 0 ||
      scalar_type >= static_cast<int>(at::ScalarType::NumOptions)) {
    *err = strdup("eager_torch_adopt: unknown scalar type");
    return nullptr;
  }
  try {
    at::TensorOptions options = at::TensorOptions()
                                    .dtype(static_cast<at::ScalarType>(scalar_type))
                                    .device(at::kCPU);
    at::Tensor t = at::for_blob(data, at::IntArrayRef(dims, ndims))
                       .context(guard.release(), release)
                       .options(options)
                       .target_device(at::Device(at::kCPU))
                       .make_tensor();
    return new at::Tensor(std::move(t));
  } catch (const std::exception &e) {
    *err = strdup(e.what());
  } catch (...) {
    *err = strdup("unknown C++ exception");
  }
  return nullptr;
}

// The scalar type and sizes of `t` in one call, for the handle's metadata:
// returns the number of dimensions and writes the sizes to `dims` when
// there are at most `cap`, or -1 when libtorch cannot give them (an
// undefined tensor, a layout without sizes). Never throws.
int64_t eager_torch_meta(const at::Tensor *t, int *scalar_type, int64_t *dims,
                         size_t cap) {
  try {
    if (!t->defined()) return -1;
    *scalar_type = static_cast<int>(t->scalar_type());
    at::IntArrayRef sizes = t->sizes();
    if (sizes.size() <= cap) std::copy(sizes.begin(), sizes.end(), dims);
    return static_cast<int64_t>(sizes.size());
  } catch (...) {
    return -1;
  }
}

// The instruction set ATen's CPU kernels were dispatched for ("DEFAULT",
// "AVX2", "AVX512"; ATEN_CPU_CAPABILITY lowers it), as a NUL-terminated
// string in `buf` (cut to `cap - 1` bytes). Returns its full length, or -1
// when libtorch cannot say. Never throws.
int64_t eager_torch_cpu_capability(char *buf, size_t cap) {
  try {
    std::string s = at::get_cpu_capability();
    if (cap > 0) {
      size_t n = std::min(s.size(), cap - 1);
      std::memcpy(buf, s.data(), n);
      buf[n] = '\0';
    }
    return static_cast<int64_t>(s.size());
  } catch (...) {
    return -1;
  }
}

// Frees an error message of eager_torch_adopt.
void eager_torch_free_error(char *err) { free(err); }

}  // extern "C"

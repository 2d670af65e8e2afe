// Tensors, dtypes and shapes for the native CPU engine (plain C++17, no Python types).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace xinrt {

// `none` marks an absent optional input; `unknown` a present value whose dtype is not known yet.
enum class DType { f32, f64, f16, i64, i32, i8, u8, boolean, none, unknown };

const char* dtype_name(DType dtype);
DType dtype_from_name(const std::string& name);  // "" -> none; unrecognised -> throws
DType dtype_from_onnx(int64_t onnx_type);         // TensorProto.DataType code; others -> none
size_t dtype_size(DType dtype);

using Shape = std::vector<int64_t>;

// Errors a kernel raises for bad input (shapes that cannot broadcast...): the Plan names the node.
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A node the model makes invalid whatever the feeds' values (attributes the spec forbids, as
// ONNX Runtime refuses them): reaches Python as _native.ModelError (xinrt.InvalidModelError).
struct ModelError : KernelError {
  using KernelError::KernelError;
};
// A tensor that cannot exist: a negative dim, or sizes whose product or byte count overflows
// int64 / passes kMaxTensorBytes (ONNX Runtime: "requested shape has too many elements").
struct ShapeError : ModelError {
  using ModelError::ModelError;
};

// The largest tensor any kernel may create or view (bytes); far above any memory, far enough
// below INT64_MAX that offsets inside such a tensor never overflow.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 60;

// The one place shape arithmetic is checked: every numel/stride/offset/size computed from dims
// or attributes goes through these (ShapeError naming `what` on overflow).
int64_t checked_add(int64_t a, int64_t b, const char* what);
int64_t checked_mul(int64_t a, int64_t b, const char* what);
// Product of the dims; ShapeError for a negative dim or a product over kMaxTensorBytes.
int64_t shape_numel(const Shape& shape);
// For checks on partly known shapes: the product, or -1 when a dim is unknown (< 0) or too large.
int64_t known_numel(const Shape& shape);
// shape_numel * dtype size, ShapeError past kMaxTensorBytes.
size_t shape_nbytes(const Shape& shape, size_t element_size);
std::string shape_str(const Shape& shape);
// Numpy-style broadcast of two shapes; returns false when they cannot broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);

// A dense C-contiguous tensor. `storage` owns (or pins) the bytes `data` points into; view ops
// share it. `readonly` marks bytes that belong to a caller input or a plan constant.
struct Tensor {
  DType dtype = DType::none;
  Shape shape;
  std::shared_ptr<void> storage;
  void* data = nullptr;
  bool readonly = false;

  int64_t numel() const { return shape_numel(shape); }
  size_t nbytes() const { return shape_nbytes(shape, dtype_size(dtype)); }
  int64_t dim(int64_t i) const { return shape[i < 0 ? i + static_cast<int64_t>(shape.size()) : i]; }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  template <class T> T* ptr() { return static_cast<T*>(data); }
  template <class T> const T* ptr() const { return static_cast<const T*>(data); }

  // A fresh, 64-byte aligned, uninitialised tensor.
  static Tensor empty(DType dtype, const Shape& shape);
  // A view of the same bytes with another shape (same numel; ShapeError when it overflows).
  Tensor reshaped(const Shape& new_shape) const;
  // A deep copy into fresh storage.
  Tensor clone() const;
};

// Aligned float scratch memory that frees itself.
std::shared_ptr<float> alloc_floats(size_t count);
std::shared_ptr<uint32_t> alloc_u32(size_t count);  // same, 32-bit words (bf16 pairs)

}  // namespace xinrt

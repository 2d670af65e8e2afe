#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

namespace xinrt {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::i64: return "int64";
    case DType::i32: return "int32";
    case DType::i8: return "int8";
    case DType::u8: return "uint8";
    case DType::boolean: return "bool";
    case DType::none: return "";
    case DType::unknown: return "unknown";
  }
  return "unknown";
}

DType dtype_from_name(const std::string& name) {
  static const DType all[] = {DType::f32, DType::f64, DType::f16, DType::i64,
                              DType::i32, DType::i8,  DType::u8,  DType::boolean};
  if (name.empty()) return DType::none;
  for (DType d : all)
    if (name == dtype_name(d)) return d;
  throw std::invalid_argument("unsupported dtype '" + name + "'");
}

DType dtype_from_onnx(int64_t onnx_type) {
  switch (onnx_type) {
    case 1: return DType::f32;
    case 2: return DType::u8;
    case 3: return DType::i8;
    case 6: return DType::i32;
    case 7: return DType::i64;
    case 9: return DType::boolean;
    case 10: return DType::f16;
    case 11: return DType::f64;
    default: return DType::none;
  }
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f64: case DType::i64: return 8;
    case DType::f32: case DType::i32: return 4;
    case DType::f16: return 2;
    case DType::i8: case DType::u8: case DType::boolean: return 1;
    default: return 0;
  }
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw ShapeError(std::string(what) + ": " + std::to_string(a) + " + " + std::to_string(b) +
                     " overflows int64");
  return r;
}

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw ShapeError(std::string(what) + ": " + std::to_string(a) + " * " + std::to_string(b) +
                     " overflows int64");
  return r;
}

// The product, or -1 when a dim is negative or the product passes kMaxTensorBytes.
static int64_t numel_or_negative(const Shape& shape) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    zero = zero || d == 0;
  }
  if (zero) return 0;  // [0, 2**62, 2**62] holds nothing: not an overflow (numpy agrees)
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxTensorBytes) return -1;
  return n;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = numel_or_negative(shape);
  if (n >= 0) return n;
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("negative dimension in shape " + shape_str(shape));
  throw ShapeError("shape " + shape_str(shape) + " has too many elements (more than 2**60)");
}

int64_t known_numel(const Shape& shape) { return numel_or_negative(shape); }

size_t shape_nbytes(const Shape& shape, size_t element_size) {
  int64_t n = shape_numel(shape), bytes;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(element_size), &bytes) || bytes > kMaxTensorBytes)
    throw ShapeError("shape " + shape_str(shape) + " needs more than 2**60 bytes");
  return static_cast<size_t>(bytes);
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    result[i] = da == 1 ? db : da;
  }
  *out = std::move(result);
  return true;
}

namespace {

// Recently freed large blocks, reused by exact size: repeated runs of a plan then stop paying
// for fresh pages (mmap + page faults) on every intermediate. Of several free blocks of a size
// the one freed last is taken (most likely still in cache). Never destroyed, so blocks that
// numpy frees at interpreter exit still have somewhere to go.
class BlockCache {
 public:
  static BlockCache& get() {
    static BlockCache* cache = new BlockCache();
    return *cache;
  }
  void* take(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = blocks_.upper_bound(n);  // equal keys keep insertion order: the last is the newest
      if (it != blocks_.begin() && (--it)->first == n) {
        void* p = it->second;
        blocks_.erase(it);
        bytes_ -= n;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, n);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void give(void* p, size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (bytes_ + n <= kMaxBytes) {
        blocks_.emplace(n, p);
        bytes_ += n;
        return;
      }
    }
    std::free(p);
  }

 private:
  static constexpr size_t kMaxBytes = size_t(256) << 20;
  std::mutex mutex_;
  std::multimap<size_t, void*> blocks_;
  size_t bytes_ = 0;
};

constexpr size_t kCachedBlockMin = 64 * 1024;

}  // namespace

static std::shared_ptr<void> alloc_bytes(size_t nbytes) {
  size_t rounded = ((nbytes + 63) / 64) * 64;
  if (rounded == 0) rounded = 64;
  if (rounded >= kCachedBlockMin) {
    void* p = BlockCache::get().take(rounded);
    return std::shared_ptr<void>(p, [rounded](void* q) { BlockCache::get().give(q, rounded); });
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<void>(p, std::free);
}

std::shared_ptr<float> alloc_floats(size_t count) {
  return std::static_pointer_cast<float>(alloc_bytes(count * sizeof(float)));
}

std::shared_ptr<uint32_t> alloc_u32(size_t count) {
  return std::static_pointer_cast<uint32_t>(alloc_bytes(count * sizeof(uint32_t)));
}

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  shape_nbytes(shape, dtype_size(dtype));  // ShapeError for negative dims or overflow
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.storage = alloc_bytes(t.nbytes());
  t.data = t.storage.get();
  return t;
}

Tensor Tensor::reshaped(const Shape& new_shape) const {
  if (shape_numel(new_shape) != numel())
    throw KernelError("cannot reshape " + shape_str(shape) + " to " + shape_str(new_shape));
  Tensor t = *this;
  t.shape = new_shape;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(dtype, shape);
  if (nbytes()) std::memcpy(t.data, data, nbytes());
  return t;
}

}  // namespace xinrt

// Elementwise helpers shared by other kernel files.
#pragma once

#include <string>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace xinrt {

// Y = A (op) B with numpy broadcasting; op is "Add", "Sub", "Mul" or "Div" (float32/int64/int32).
void binary_op(const std::string& op, const Tensor& A, const Tensor& B, Tensor& Y, ThreadPool& pool);

}  // namespace xinrt

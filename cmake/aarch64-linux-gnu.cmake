# Cross-compiling for 64-bit ARM Linux with Debian's/Ubuntu's g++-aarch64-linux-gnu.
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# The binaries run on an aarch64 board or under `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(XINRT_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross toolchain's programs")
set(CMAKE_C_COMPILER ${XINRT_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${XINRT_CROSS_PREFIX}g++)

# Libraries and headers from the target sysroot only; programs from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

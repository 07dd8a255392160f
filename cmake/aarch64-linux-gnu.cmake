# Cross-compiles for 64-bit Arm Linux with Debian's GNU toolchain (g++-aarch64-linux-gnu) and
# runs the resulting programs (ctest) under QEMU user-mode emulation (qemu-user).
#   cmake -S . -B build/aarch64 --toolchain cmake/aarch64-linux-gnu.cmake -DCNNKIT_BUILD_TESTS=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CNNKIT_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${CNNKIT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${CNNKIT_CROSS_TRIPLE}-g++)

# Debian installs the target's libraries (glibc, libstdc++, libgomp) under this prefix.
set(CMAKE_FIND_ROOT_PATH /usr/${CNNKIT_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -L points the emulator's dynamic loader at the target's libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${CNNKIT_CROSS_TRIPLE})

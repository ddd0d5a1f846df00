// Chooses the fastest lane kernel the CPU runs.
#include "crypto/work_lanes.hpp"

#include "crypto/work_lanes_kernels.hpp"

namespace dave::work_lanes {

std::size_t available(implementation* out, std::size_t capacity) noexcept {
    implementation supported[3];
    std::size_t count = 0;
    // Fastest first, so best() is simply the first entry.
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wide registers.
    if (__builtin_cpu_supports("avx512f"))
        supported[count++] = {"avx512", avx512_lanes, hash_avx512};
    if (__builtin_cpu_supports("avx2"))
        supported[count++] = {"avx2", avx2_lanes, hash_avx2};
#endif
    supported[count++] = {"portable", portable_lanes, hash_portable};
    std::size_t copied = 0;
    for (; copied < count && copied < capacity; ++copied)
        out[copied] = supported[copied];
    return copied;
}

implementation best() noexcept {
    static const implementation chosen = [] {
        implementation first{};
        available(&first, 1);
        return first;
    }();
    return chosen;
}

} // namespace dave::work_lanes

// page_allocator: large buffers are mapped pages of their own (returned to
// the system when freed), small ones come from operator new; both hold what
// is written to them.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "model/page_allocator.hpp"

using namespace dave;

namespace {

// Whether `p` lies in any mapping of /proc/self/maps.
bool mapped(const void* p) {
    std::ifstream maps("/proc/self/maps");
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    std::string line;
    while (std::getline(maps, line)) {
        const auto dash = line.find('-');
        const auto start = std::stoull(line.substr(0, dash), nullptr, 16);
        const auto end = std::stoull(line.substr(dash + 1), nullptr, 16);
        if (address >= start && address < end)
            return true;
    }
    return false;
}

bool page_aligned(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) % 4096 == 0;
}

} // namespace

TEST_CASE("buffers of at least min_mapped_bytes are pages of their own, unmapped when freed") {
    std::vector<std::uint64_t, page_allocator<std::uint64_t>> large(min_mapped_bytes / 8 * 3);
    for (std::size_t i = 0; i < large.size(); ++i)
        large[i] = i * 7;
    CHECK(page_aligned(large.data()));
    CHECK(large[large.size() - 1] == (large.size() - 1) * 7);

    std::vector<std::uint64_t, page_allocator<std::uint64_t>> small(16, 5);
    CHECK(small[15] == 5);

    // Growth moves the contents to new pages and returns the old ones.
    const void* before = large.data();
    large.resize(large.size() * 2, 1);
    CHECK(large.data() != before);
    CHECK(page_aligned(large.data()));
    CHECK(large[3] == 21);
    CHECK(large.back() == 1);
    CHECK(mapped(large.data()));
    CHECK_FALSE(mapped(before));
}

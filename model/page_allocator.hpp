// An allocator for large buffers that are replaced often (a shard's snapshot
// rows, rebuilt at every publication): buffers of at least `min_mapped`
// bytes are mapped pages of their own, returned to the system when freed;
// smaller ones come from operator new.
//
// Why: each publication allocates a buffer a little larger than the last and
// frees the last. In malloc's heap every freed buffer left a hole too small
// for the next, and while the stores filled those holes held about 40 bytes
// of resident memory per entry (dave-bench memory).
#pragma once

#include <cstddef>
#include <new>

#include <sys/mman.h>

namespace dave {

inline constexpr std::size_t min_mapped_bytes = 4 * 1024;

template <class T> class page_allocator {
public:
    using value_type = T;

    page_allocator() noexcept = default;
    template <class U> page_allocator(const page_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T))
            throw std::bad_array_new_length();
        const std::size_t bytes = n * sizeof(T);
        if (bytes < min_mapped_bytes)
            return static_cast<T*>(::operator new(bytes));
        void* pages =
            ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED)
            throw std::bad_alloc();
        return static_cast<T*>(pages);
    }

    void deallocate(T* p, std::size_t n) noexcept {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < min_mapped_bytes)
            ::operator delete(p);
        else
            ::munmap(p, bytes);
    }

    template <class U> bool operator==(const page_allocator<U>&) const noexcept { return true; }
};

} // namespace dave

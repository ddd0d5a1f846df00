// Sequential writing into a buffer that the encoder has already sized to the
// exact encoded length. Encoders compute the length first, resize the output
// once and then fill it, so encoding allocates at most once per call.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "codec/little_endian.hpp"

namespace dave {

class byte_writer {
public:
    byte_writer(std::uint8_t* begin, std::size_t size) noexcept
        : cursor_(begin), end_(begin + size) {}

    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - cursor_); }

    void write_u8(std::uint8_t value) noexcept {
        assert(remaining() >= 1);
        *cursor_++ = value;
    }

    void write_u16(std::uint16_t value) noexcept {
        assert(remaining() >= 2);
        store_u16_little_endian(cursor_, value);
        cursor_ += 2;
    }

    void write_u64(std::uint64_t value) noexcept {
        assert(remaining() >= 8);
        store_u64_little_endian(cursor_, value);
        cursor_ += 8;
    }

    void write_i64(std::int64_t value) noexcept { write_u64(static_cast<std::uint64_t>(value)); }

    void write_bytes(const std::uint8_t* data, std::size_t size) noexcept {
        assert(remaining() >= size);
        // memcpy with a null source is undefined even for size 0 (an empty vector's data()).
        if (size != 0)
            std::memcpy(cursor_, data, size);
        cursor_ += size;
    }

    template <std::size_t Size>
    void write_array(const std::array<std::uint8_t, Size>& value) noexcept {
        write_bytes(value.data(), Size);
    }

private:
    std::uint8_t* cursor_;
    std::uint8_t* end_;
};

} // namespace dave

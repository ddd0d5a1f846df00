// Bounds-checked sequential reading of a byte span. Every read first checks
// that enough bytes remain and, if not, consumes nothing and returns false, so
// a decoder built only on these reads cannot touch memory outside its input.
// Whether a failed read means "truncated" or "length past end" depends on the
// field, so the decoder, not the reader, picks the errc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "codec/little_endian.hpp"
#include "codec/types.hpp"

namespace dave {

class byte_reader {
public:
    explicit byte_reader(byte_span input) noexcept : input_(input) {}

    std::size_t remaining() const noexcept { return input_.size() - position_; }
    bool at_end() const noexcept { return position_ == input_.size(); }

    bool read_u8(std::uint8_t& value) noexcept {
        if (remaining() < 1)
            return false;
        value = input_[position_];
        position_ += 1;
        return true;
    }

    bool read_u16(std::uint16_t& value) noexcept {
        if (remaining() < 2)
            return false;
        value = load_u16_little_endian(input_.data() + position_);
        position_ += 2;
        return true;
    }

    bool read_u64(std::uint64_t& value) noexcept {
        if (remaining() < 8)
            return false;
        value = load_u64_little_endian(input_.data() + position_);
        position_ += 8;
        return true;
    }

    // Two's complement, as Go's int64(binary.LittleEndian.Uint64(...)).
    bool read_i64(std::int64_t& value) noexcept {
        std::uint64_t bits = 0;
        if (!read_u64(bits))
            return false;
        value = static_cast<std::int64_t>(bits);
        return true;
    }

    template <std::size_t Size> bool read_array(std::array<std::uint8_t, Size>& value) noexcept {
        if (remaining() < Size)
            return false;
        std::memcpy(value.data(), input_.data() + position_, Size);
        position_ += Size;
        return true;
    }

    // A view of the next `count` bytes, without copying.
    bool read_span(std::size_t count, byte_span& value) noexcept {
        if (remaining() < count)
            return false;
        value = input_.subspan(position_, count);
        position_ += count;
        return true;
    }

private:
    byte_span input_;
    std::size_t position_ = 0;
};

} // namespace dave

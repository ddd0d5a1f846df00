// A value or an errc. The codec and crypto layers are free of CAF, so they use
// this small type; the actor layers convert the errc into a caf::error.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "codec/errc.hpp"

namespace dave {

template <class T> class result {
public:
    result(T value) : state_(std::move(value)) {}
    result(errc code) : state_(code) { assert(code != errc::none); }

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    errc error() const noexcept { return has_value() ? errc::none : std::get<1>(state_); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, errc> state_;
};

} // namespace dave

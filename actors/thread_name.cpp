#include "actors/thread_name.hpp"

#include <pthread.h>
#include <string>

namespace dave {

void name_this_thread(std::string_view name) {
    constexpr std::size_t kernel_limit = 15; // plus the terminating zero
    std::string text(name.substr(0, kernel_limit));
    pthread_setname_np(pthread_self(), text.c_str());
}

} // namespace dave

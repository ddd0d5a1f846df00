#include "model/replica_set.hpp"

#include <algorithm>

namespace dave {

replica_ids closest_replicas(const public_key_bytes& public_key,
                             std::span<const std::uint64_t> node_ids, std::size_t fanout) {
    const std::size_t want = std::min(fanout, wire_replica_count);
    const std::uint64_t target = node_id(public_key);
    // Insertion into a tiny sorted array: O(n × fanout), no allocation.
    replica_ids best{};
    std::size_t count = 0;
    auto closer = [target](std::uint64_t a, std::uint64_t b) {
        const std::uint64_t da = a ^ target, db = b ^ target;
        return da != db ? da < db : a < b;
    };
    for (std::uint64_t id : node_ids) {
        if (want == 0)
            break;
        if (std::find(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(count), id) !=
            best.begin() + static_cast<std::ptrdiff_t>(count))
            continue;
        if (count == want && !closer(id, best[count - 1]))
            continue;
        std::size_t i = count < want ? count++ : count - 1;
        while (i > 0 && closer(id, best[i - 1])) {
            best[i] = best[i - 1];
            --i;
        }
        best[i] = id;
    }
    return best;
}

bool same_members(const replica_ids& a, const replica_ids& b) noexcept {
    replica_ids x = a, y = b;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
}

} // namespace dave

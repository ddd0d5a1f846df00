#include "model/shard_snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <utility>

#include "codec/little_endian.hpp"
#include "codec/types.hpp"
#include "model/shard_routing.hpp"

namespace dave {
namespace {

struct row {
    std::uint32_t tag;
    const stored_entry* entry;
};

bool row_less(const row& a, const row& b) noexcept {
    return a.tag != b.tag ? a.tag < b.tag : a.entry < b.entry;
}

} // namespace

snapshot_generation::~snapshot_generation() {
    for (stored_entry* stored : retired_)
        stored_entry::destroy(*arena_, stored);
    // Unlinks the chain iteratively: a long chain (a reader that held an old
    // snapshot across many publications) must not recurse once per link.
    auto next = std::move(next_);
    while (next && next.use_count() == 1) {
        auto after = std::move(next->next_);
        next.reset();
        next = std::move(after);
    }
}

const stored_entry* shard_snapshot::find(const public_key_bytes& public_key, byte_span key) const {
    const std::uint32_t tag = snapshot_rows::tag_of(entry_key_hash(public_key, key));
    const auto& tags = rows_.tags;
    auto at = std::lower_bound(tags.begin(), tags.end(), tag);
    for (; at != tags.end() && *at == tag; ++at) {
        const stored_entry* stored = rows_.entries[static_cast<std::size_t>(at - tags.begin())];
        if (stored->has_identity(public_key, key))
            return stored;
    }
    return nullptr;
}

snapshot_publisher::snapshot_publisher() : generation_(std::make_shared<snapshot_generation>()) {
    current_ = std::make_shared<const shard_snapshot>(snapshot_rows{}, generation_);
}

snapshot_publisher::~snapshot_publisher() {
    // Entries the store let go of after the last publication: the current
    // snapshot may list them, so they go with its generation.
    retire(std::exchange(changes_.removed, {}));
    changes_.added.clear();
}

void snapshot_publisher::retire(std::vector<stored_entry*> removed) {
    if (removed.empty())
        return;
    assert(changes_.arena != nullptr); // set by shard_store::set_change_sink
    generation_->arena_ = changes_.arena;
    auto& retired = generation_->retired_;
    if (retired.empty())
        retired = std::move(removed);
    else
        retired.insert(retired.end(), removed.begin(), removed.end());
}

std::shared_ptr<const shard_snapshot> snapshot_publisher::publish() {
    if (changes_.empty())
        return current_;
    auto removed = std::exchange(changes_.removed, {});
    auto added = std::exchange(changes_.added, {});
    std::sort(removed.begin(), removed.end());
    // An entry added and removed since the last publication was never
    // listed: it is simply not added (and is retired below all the same).
    std::vector<row> fresh;
    fresh.reserve(added.size());
    for (stored_entry* stored : added)
        if (!std::binary_search(removed.begin(), removed.end(), stored))
            fresh.push_back({snapshot_rows::tag_of(stored->identity_hash()), stored});
    std::sort(fresh.begin(), fresh.end(), row_less);

    const snapshot_rows& old_rows = current_->rows();
    snapshot_rows rows;
    rows.reserve(old_rows.size() + fresh.size());
    auto next_fresh = fresh.begin();
    for (std::size_t i = 0; i < old_rows.size(); ++i) {
        const row old_row{old_rows.tags[i], old_rows.entries[i]};
        if (!removed.empty() && std::binary_search(removed.begin(), removed.end(),
                                                   const_cast<stored_entry*>(old_row.entry)))
            continue;
        for (; next_fresh != fresh.end() && row_less(*next_fresh, old_row); ++next_fresh)
            rows.push_back(next_fresh->tag, next_fresh->entry);
        rows.push_back(old_row.tag, old_row.entry);
    }
    for (; next_fresh != fresh.end(); ++next_fresh)
        rows.push_back(next_fresh->tag, next_fresh->entry);

    auto generation = std::make_shared<snapshot_generation>();
    retire(std::move(removed));
    generation_->next_ = generation;
    generation_ = std::move(generation);
    current_ = std::make_shared<const shard_snapshot>(std::move(rows), generation_);
    return current_;
}

std::shared_ptr<const shard_snapshot> snapshot_publisher::publish_empty() {
    // Whatever is still listed was either removed (and is in changes_) or
    // is still the store's: the store is gone, so it must have been removed.
    auto generation = std::make_shared<snapshot_generation>();
    retire(std::exchange(changes_.removed, {}));
    changes_.added.clear();
    generation_->next_ = generation;
    generation_ = std::move(generation);
    current_ = std::make_shared<const shard_snapshot>(snapshot_rows{}, generation_);
    return current_;
}

void append_get_ack_of(const stored_entry& stored, bytes& out) {
    static_assert(std::endian::native == std::endian::little,
                  "replica IDs are read as host u64 values (little-endian on the wire)");
    using stored_layout::replicas_length;
    const std::size_t dat_length = stored.dat_length();
    const std::size_t entry_length = replicas_length + 2 + dat_length;
    const std::size_t at = out.size();
    out.resize(at + 1 + 2 + entry_length);
    std::uint8_t* p = out.data() + at;
    p[0] = static_cast<std::uint8_t>(op::get_ack);
    store_u16_little_endian(p + 1, static_cast<std::uint16_t>(entry_length));
    const replica_ids replicas = stored.replicas_atomic();
    for (std::size_t i = 0; i < replicas.size(); ++i)
        store_u64_little_endian(p + 3 + 8 * i, replicas[i]);
    store_u16_little_endian(p + 3 + replicas_length, static_cast<std::uint16_t>(dat_length));
    std::memcpy(p + 5 + replicas_length, stored.dat(), dat_length);
}

} // namespace dave

#include "model/shard_snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <utility>

#include "codec/little_endian.hpp"
#include "codec/types.hpp"
#include "model/shard_routing.hpp"

namespace dave {
namespace {

struct row {
    std::uint32_t tag;
    entry_arena::ref entry;
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

shard_snapshot::shard_snapshot(std::shared_ptr<const snapshot_rows> base, snapshot_delta delta,
                               std::shared_ptr<snapshot_generation> generation,
                               entry_arena::region_map regions)
    : base_(std::move(base)), delta_(std::move(delta)), generation_(std::move(generation)),
      regions_(regions) {
    assert(base_ != nullptr);
}

shard_snapshot::shard_snapshot(snapshot_rows rows, std::shared_ptr<snapshot_generation> generation,
                               entry_arena::region_map regions)
    : shard_snapshot(std::make_shared<const snapshot_rows>(std::move(rows)), {},
                     std::move(generation), regions) {}

const stored_entry* shard_snapshot::find(const public_key_bytes& public_key, byte_span key) const {
    return find(entry_key_hash(public_key, key), public_key, key);
}

const stored_entry* shard_snapshot::find(std::uint64_t identity_hash,
                                         const public_key_bytes& public_key, byte_span key) const {
    return first_with_tag(snapshot_rows::tag_of(identity_hash), [&](const stored_entry* stored) {
        return stored->has_identity(public_key, key);
    });
}

snapshot_publisher::snapshot_publisher(std::shared_ptr<entry_arena> arena)
    : arena_(std::move(arena)), generation_(std::make_shared<snapshot_generation>()) {
    generation_->arena_ = arena_;
    current_ =
        std::make_shared<const shard_snapshot>(snapshot_rows{}, generation_, arena_->regions());
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
    auto& retired = generation_->retired_;
    if (retired.empty())
        retired = std::move(removed);
    else
        retired.insert(retired.end(), removed.begin(), removed.end());
}

std::size_t snapshot_publisher::merge_threshold(std::size_t base_size) noexcept {
    constexpr std::size_t least = 64;
    const auto root = static_cast<std::size_t>(std::sqrt(static_cast<double>(base_size)));
    return std::max(least, 2 * root);
}

namespace {

// Removes the row of `stored` (whose ref is `block`) from `rows`; false when
// it has none.
bool erase_row(delta_rows& rows, const stored_entry* stored, entry_arena::ref block) {
    const std::uint32_t tag = snapshot_rows::tag_of(stored->identity_hash());
    auto at = static_cast<std::size_t>(std::lower_bound(rows.tags.begin(), rows.tags.end(), tag) -
                                       rows.tags.begin());
    for (; at < rows.size() && rows.tags[at] == tag; ++at) {
        if (rows.entries[at] != block)
            continue;
        rows.tags.erase(rows.tags.begin() + static_cast<std::ptrdiff_t>(at));
        rows.entries.erase(rows.entries.begin() + static_cast<std::ptrdiff_t>(at));
        return true;
    }
    return false;
}

// `older` and `newer` (both sorted by row_less) merged into `out`, leaving
// out the rows of `older` whose entry is in `dropped` (sorted).
template <class Out, class Older>
void merge_rows(const Older& older, const std::vector<entry_arena::ref>& dropped,
                const delta_rows& newer, Out& out) {
    out.reserve(older.size() - std::min(older.size(), dropped.size()) + newer.size());
    std::size_t next_newer = 0;
    for (std::size_t i = 0; i < older.size(); ++i) {
        const row old_row{older.tags[i], older.entries[i]};
        if (!dropped.empty() && std::binary_search(dropped.begin(), dropped.end(), old_row.entry))
            continue;
        for (; next_newer < newer.size() &&
               row_less({newer.tags[next_newer], newer.entries[next_newer]}, old_row);
             ++next_newer)
            out.push_back(newer.tags[next_newer], newer.entries[next_newer]);
        out.push_back(old_row.tag, old_row.entry);
    }
    for (; next_newer < newer.size(); ++next_newer)
        out.push_back(newer.tags[next_newer], newer.entries[next_newer]);
}

} // namespace

std::shared_ptr<const shard_snapshot> snapshot_publisher::publish() {
    if (changes_.empty())
        return current_;
    auto removed = std::exchange(changes_.removed, {});
    auto added = std::exchange(changes_.added, {});
    // The rows name entries by their arena refs; pointers stay the
    // store's (and the retired list's) vocabulary. Each entry's ref is
    // looked up once: refs_of keeps the entries' order, sorted_refs sorts a
    // copy for the membership tests below.
    const auto refs_of = [&](const std::vector<stored_entry*>& entries) {
        std::vector<entry_arena::ref> refs;
        refs.reserve(entries.size());
        for (const stored_entry* stored : entries)
            refs.push_back(arena_->ref_of(stored));
        return refs;
    };
    const auto sorted_refs = [](std::vector<entry_arena::ref> refs) {
        std::sort(refs.begin(), refs.end());
        return refs;
    };
    const std::vector<entry_arena::ref> removed_refs = refs_of(removed);
    const std::vector<entry_arena::ref> added_refs = refs_of(added);
    const std::vector<entry_arena::ref> removed_sorted = sorted_refs(removed_refs);
    const std::vector<entry_arena::ref> added_sorted = sorted_refs(added_refs);

    // An entry added and removed since the last publication was never
    // listed: it is simply not added (and is retired below all the same).
    // Another removed entry is listed by the delta or else by the base.
    snapshot_delta delta;
    delta.added = current_->delta().added;
    std::vector<entry_arena::ref> base_removed;
    for (std::size_t i = 0; i < removed.size(); ++i) {
        const entry_arena::ref block = removed_refs[i];
        if (!std::binary_search(added_sorted.begin(), added_sorted.end(), block) &&
            !erase_row(delta.added, removed[i], block))
            base_removed.push_back(block);
    }
    std::sort(base_removed.begin(), base_removed.end());
    const auto& earlier_removed = current_->delta().removed;
    delta.removed.resize(earlier_removed.size() + base_removed.size());
    std::merge(earlier_removed.begin(), earlier_removed.end(), base_removed.begin(),
               base_removed.end(), delta.removed.begin());

    std::vector<row> fresh;
    fresh.reserve(added.size());
    for (std::size_t i = 0; i < added.size(); ++i) {
        const entry_arena::ref block = added_refs[i];
        if (!std::binary_search(removed_sorted.begin(), removed_sorted.end(), block))
            fresh.push_back({snapshot_rows::tag_of(added[i]->identity_hash()), block});
    }
    std::sort(fresh.begin(), fresh.end(), row_less);
    delta_rows fresh_rows;
    fresh_rows.reserve(fresh.size());
    for (const row& each : fresh)
        fresh_rows.push_back(each.tag, each.entry);
    delta_rows with_fresh;
    merge_rows(delta.added, {}, fresh_rows, with_fresh);
    delta.added = std::move(with_fresh);

    std::shared_ptr<const snapshot_rows> base = current_->base();
    if (delta.size() > merge_threshold(base->size())) {
        snapshot_rows merged;
        merge_rows(*base, delta.removed, delta.added, merged);
        base = std::make_shared<const snapshot_rows>(std::move(merged));
        delta = {};
    }

    auto generation = std::make_shared<snapshot_generation>();
    generation->arena_ = arena_;
    retire(std::move(removed));
    generation_->next_ = generation;
    generation_ = std::move(generation);
    current_ = std::make_shared<const shard_snapshot>(std::move(base), std::move(delta),
                                                      generation_, arena_->regions());
    return current_;
}

std::shared_ptr<const shard_snapshot> empty_snapshot() {
    return std::make_shared<const shard_snapshot>(
        snapshot_rows{}, std::make_shared<snapshot_generation>(), entry_arena::region_map{});
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

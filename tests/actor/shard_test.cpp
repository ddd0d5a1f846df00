// Actor tests of a shard on CAF's deterministic test coordinator: storing
// (verification, replace-if-newer, eviction by priority), serving GETs through
// the transport writer, and handing stored entries to the backup writer.
// The wall clock is a fixture variable handed to the shard.
#define CAF_SUITE shard

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/log.hpp"
#include "actors/shard.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
#include "node/node.hpp"
#include "testing/actor_fixture.hpp"
#include "testing/loopback.hpp"
#include "testing/udp_client.hpp"

// After the project headers: dsl.hpp defines macros (allow, expect, ...)
// that would clash with their member names.
#include <caf/all.hpp>

#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::uint64_t base_time = 1'700'000'000'000ULL; // ms since the epoch
constexpr std::uint64_t day_ms = 24ULL * 60 * 60 * 1000;

key_pair keys_for(std::uint8_t n) {
    return seeded_keys(0x33, n);
}

address make_address(std::uint8_t n) {
    return v4_mapped_address(192, 168, 0, n, static_cast<std::uint16_t>(7000 + n));
}

entry as_entry(dat value) {
    entry out;
    out.data = std::move(value);
    return out;
}

// What a shard's metric_report says, by the names these tests use.
struct shard_counts {
    std::uint64_t entries = 0;
    std::uint64_t used_bytes = 0;
    std::uint64_t puts_stored = 0;
    std::uint64_t puts_refused = 0;
    std::map<std::string, std::int64_t> put_refusals;
    std::uint64_t puts_identical = 0;
};

shard_counts counts_of(const metric_report& report) {
    auto count = [&](const char* family) {
        return static_cast<std::uint64_t>(report.total(family));
    };
    return {count("dave_store_entries"),
            count("dave_store_used_bytes"),
            count("dave_puts_accepted_total"),
            count("dave_puts_refused_total"),
            report.by_label("dave_puts_refused_total", "reason"),
            count("dave_puts_identical_total")};
}

// The one GET_ACK among `sent`, or none if there is not exactly one.
std::optional<get_ack_message> only_get_ack(const std::vector<datagram>& sent) {
    if (sent.size() != 1)
        return std::nullopt;
    auto decoded = decode_message(sent.front().payload);
    if (!decoded || !std::holds_alternative<get_ack_message>(*decoded))
        return std::nullopt;
    return std::get<get_ack_message>(std::move(*decoded));
}

std::string name_of(errc code) {
    return std::string(to_string(code));
}

caf::behavior recording_writer(caf::event_based_actor*,
                               std::shared_ptr<std::vector<datagram>> out) {
    return {
        [=](send_atom, const datagram_batch& batch) {
            for (auto& item : batch.items)
                out->push_back(item);
        },
    };
}

// A backup writer that records what it is given: peers' entries
// (append_atom) and API puts (put_atom), which it answers true, or
// backup_unavailable while *full.
caf::behavior recording_backup(caf::event_based_actor*, std::shared_ptr<std::vector<entry>> out,
                               std::shared_ptr<bool> full) {
    return {
        [=](append_atom, const entry& item) { out->push_back(item); },
        [=](append_atom, const std::vector<entry>& items) {
            out->insert(out->end(), items.begin(), items.end());
        },
        [=](put_atom, const entry& item) -> caf::result<bool> {
            if (*full)
                return make_error(errc::backup_unavailable);
            out->push_back(item);
            return true;
        },
        [=](watch_atom) {},
    };
}

template <class T> struct reply_slot {
    std::optional<T> value;
    std::optional<caf::error> error;
};

// What a (store_atom, entry) request came back with.
struct store_reply {
    std::optional<bool> stored;
    errc error = errc::none;
};

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::uint64_t> wall = std::make_shared<std::uint64_t>(base_time + 60'000);
    std::shared_ptr<std::vector<datagram>> sent = std::make_shared<std::vector<datagram>>();
    std::shared_ptr<std::vector<entry>> appended = std::make_shared<std::vector<entry>>();
    std::shared_ptr<bool> backup_full = std::make_shared<bool>(false);
    caf::actor writer;
    caf::actor backup;
    shard_actor shard;
    key_pair own = keys_for(200);
    std::uint64_t own_id = node_id(own.public_key);

    fixture() {
        initialize_crypto();
        set_log_level("off");
        writer = sys.spawn(recording_writer, sent);
        backup = sys.spawn(recording_backup, appended, backup_full);
        sched.run();
    }

    void start(std::size_t capacity = 1 << 20, int min_work = 8) {
        shard_setup setup;
        setup.config.own_node_id = own_id;
        setup.config.capacity_bytes = capacity;
        // Eviction by priority alone: these shards hold a few entries, each
        // past the default shares (store_quota_test tests those).
        setup.config.shares = {0, 0};
        setup.min_work = min_work;
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.backup = caf::actor_cast<backup_writer_actor>(backup);
        setup.wall_clock_ms = [wall = wall] { return *wall; };
        shard = spawn_shard(sys, std::move(setup));
        sched.run();
    }

    template <class T, class... Ts> reply_slot<T> ask(Ts... xs) {
        auto slot = std::make_shared<reply_slot<T>>();
        auto dest = shard;
        sys.spawn([=](caf::event_based_actor* asker) {
            asker->request(dest, caf::infinite, xs...)
                .then([=](T& value) { slot->value = std::move(value); },
                      [=](caf::error& error) { slot->error = std::move(error); });
        });
        sched.run();
        CAF_REQUIRE(slot->value.has_value() || slot->error.has_value());
        return std::move(*slot);
    }

    store_reply store(const entry& item) { return store_as(store_atom_v, item); }
    // put_atom: an API put, answered once the backup wrote it.
    template <class Atom> store_reply store_as(Atom atom, const entry& item) {
        auto reply = ask<bool>(atom, item);
        store_reply out;
        if (reply.value)
            out.stored = *reply.value;
        else
            out.error = errc_of(*reply.error);
        return out;
    }
    store_reply store(const dat& value) { return store(as_entry(value)); }

    // True when stored (not identical); fails the check otherwise.
    void require_stored(const dat& value) {
        auto reply = store(value);
        CAF_REQUIRE_EQUAL(name_of(reply.error), name_of(errc::none));
        CAF_REQUIRE(reply.stored.has_value() && *reply.stored);
    }

    void check_refused(const dat& value, errc expected) {
        auto reply = store(value);
        CAF_CHECK(!reply.stored.has_value());
        CAF_CHECK_EQUAL(name_of(reply.error), name_of(expected));
    }

    std::optional<entry> get(const dat& value) {
        auto reply = ask<entry>(get_atom_v, value.public_key, value.key);
        if (reply.value)
            return std::move(*reply.value);
        CAF_CHECK_EQUAL(name_of(errc_of(*reply.error)), name_of(errc::not_found));
        return std::nullopt;
    }

    shard_counts status() {
        auto reply = ask<metric_report>(metrics_atom_v);
        CAF_REQUIRE(reply.value.has_value());
        return counts_of(*reply.value);
    }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(shard_tests, fixture)

// -- storing ---------------------------------------------------------------------

CAF_TEST(a verified dat is stored and appended to the backup) {
    start();
    auto value = signed_dat(keys_for(1), "greeting", "hello", base_time);
    entry item = as_entry(value);
    item.replicas = {11, 22, 33, 0, 0};
    auto reply = store(item);
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(*reply.stored);
    auto found = get(value);
    CAF_REQUIRE(found.has_value());
    CAF_CHECK(*found == item); // keeps the replica set it carried
    CAF_REQUIRE_EQUAL(appended->size(), 1u);
    CAF_CHECK(appended->front() == item);
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 1u);
    CAF_CHECK_EQUAL(st.used_bytes, stored_size(item));
    CAF_CHECK_EQUAL(st.puts_stored, 1u);
    CAF_CHECK_EQUAL(st.puts_refused, 0u);
}

CAF_TEST(an API put is answered only after the backup wrote it) {
    start();
    auto value = signed_dat(keys_for(1), "durable", "v", base_time);
    auto reply = store_as(put_atom_v, as_entry(value));
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(*reply.stored);
    CAF_REQUIRE_EQUAL(appended->size(), 1u);
    // The same put again: written again (its first record might not be in
    // the file), answered false (nothing new stored).
    reply = store_as(put_atom_v, as_entry(value));
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(!*reply.stored);
    CAF_CHECK_EQUAL(appended->size(), 2u);
    // A backup that cannot write: the put is not acknowledged.
    *backup_full = true;
    reply = store_as(put_atom_v, as_entry(signed_dat(keys_for(1), "lost", "v", base_time)));
    CAF_CHECK(!reply.stored.has_value());
    CAF_CHECK_EQUAL(name_of(reply.error), name_of(errc::backup_unavailable));
}

CAF_TEST(while the backup is unwritable every PUT is refused before it is stored) {
    start();
    caf::anon_send(shard, writable_atom_v, false);
    sched.run();
    auto value = signed_dat(keys_for(1), "k", "v", base_time);
    check_refused(value, errc::backup_unavailable); // a peer's PUT
    auto reply = store_as(put_atom_v, as_entry(value));
    CAF_CHECK_EQUAL(name_of(reply.error), name_of(errc::backup_unavailable));
    CAF_CHECK(!get(value).has_value());
    CAF_CHECK(appended->empty());
    auto st = status();
    CAF_CHECK_EQUAL(st.puts_refused, 2u);
    CAF_CHECK_EQUAL(st.puts_stored, 0u);
    // Writable again: accepted.
    caf::anon_send(shard, writable_atom_v, true);
    sched.run();
    require_stored(value);
    CAF_CHECK_EQUAL(appended->size(), 1u);
}

CAF_TEST(an identical dat is a no - op and is not verified again) {
    start();
    auto value = signed_dat(keys_for(1), "k", "v", base_time);
    require_stored(value);
    // Move the clock to well before the dat's time: verifying it now would
    // fail with time_in_future, as a fresh dat shows.
    *wall = base_time - max_clock_skew_ms - 1000;
    check_refused(signed_dat(keys_for(1), "other", "v", base_time), errc::time_in_future);
    auto reply = store(value);
    CAF_CHECK_EQUAL(name_of(reply.error), name_of(errc::none));
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(!*reply.stored);
    CAF_CHECK_EQUAL(appended->size(), 1u); // no second append
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 1u);
    CAF_CHECK_EQUAL(st.puts_stored, 1u);
    CAF_CHECK_EQUAL(st.puts_refused, 1u); // only the future one
    // An identical dat carrying another replica set is still identical.
    entry relabelled = as_entry(value);
    relabelled.replicas = {1, 2, 3, 4, 5};
    reply = store(relabelled);
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(!*reply.stored);
}

CAF_TEST(a newer dat replaces the stored one and an older one is refused) {
    start();
    auto keys = keys_for(1);
    auto v1 = signed_dat(keys, "k", "first", base_time);
    auto v2 = signed_dat(keys, "k", "second", base_time + 1000);
    require_stored(v1);
    require_stored(v2);
    auto found = get(v2);
    CAF_REQUIRE(found.has_value());
    CAF_CHECK(found->data == v2);
    check_refused(v1, errc::older_than_stored);
    // The same time with other content is not newer either.
    auto rival = signed_dat(keys, "k", "rival", base_time + 1000);
    check_refused(rival, errc::older_than_stored);
    found = get(v2);
    CAF_REQUIRE(found.has_value());
    CAF_CHECK(found->data == v2);
    CAF_REQUIRE_EQUAL(appended->size(), 2u);
    CAF_CHECK((*appended)[0].data == v1);
    CAF_CHECK((*appended)[1].data == v2);
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 1u);
    CAF_CHECK_EQUAL(st.puts_stored, 2u);
    CAF_CHECK_EQUAL(st.puts_refused, 2u);
}

CAF_TEST(a dat that differs from the stored one is verified even when it is not newer) {
    start();
    auto keys = keys_for(1);
    auto stored = signed_dat(keys, "k", "stored", base_time + 1000);
    require_stored(stored);
    // Only a byte-identical dat skips the signature check: an older one with
    // a broken signature is verified and refused for it, not as older.
    auto older = signed_dat(keys, "k", "older", base_time);
    older.value = text_bytes("tampered");
    check_refused(older, errc::bad_signature);
    // The same key and time, one value byte changed: verified, refused.
    auto same_time = stored;
    same_time.value.back() ^= 0x01;
    check_refused(same_time, errc::bad_signature);
    // The same key and time, one signature byte changed: the work no longer
    // matches it, which the verification sees first.
    same_time = stored;
    same_time.signature[10] ^= 0x01;
    check_refused(same_time, errc::work_mismatch);
    // A newer one with a broken signature must be verified and refused.
    auto newer = signed_dat(keys, "k", "newer", base_time + 2000);
    newer.value = text_bytes("tampered");
    check_refused(newer, errc::bad_signature);
    // The stored dat itself: recognised without a check, nothing changes.
    auto reply = store(stored);
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(!*reply.stored);
    CAF_CHECK(get(stored)->data == stored);
    CAF_CHECK_EQUAL(appended->size(), 1u);
    auto st = status();
    CAF_CHECK_EQUAL(st.puts_refused, 4u);
    CAF_CHECK_EQUAL(st.puts_identical, 1u);
}

CAF_TEST(a batch of peers PUTs is stored in one message and answered once) {
    start();
    auto keys = keys_for(1);
    auto before = signed_dat(keys, "old", "already here", base_time);
    require_stored(before);
    put_batch batch;
    auto add = [&](const dat& value, std::uint8_t peer) {
        batch.items.push_back(as_entry(value));
        batch.sources.push_back(make_address(peer));
    };
    auto a = signed_dat(keys, "a", "1", base_time);
    auto b = signed_dat(keys, "b", "2", base_time);
    auto c = signed_dat(keys_for(2), "c", "3", base_time);
    auto bad = signed_dat(keys, "bad", "4", base_time);
    bad.value = text_bytes("tampered");
    add(a, 1);
    add(before, 1); // identical to the stored one
    add(bad, 2);
    add(b, 2);
    add(a, 3); // identical to one earlier in the same batch
    add(c, 3);
    auto reply = ask<std::uint64_t>(store_atom_v, batch);
    CAF_REQUIRE(reply.value.has_value());
    CAF_CHECK_EQUAL(*reply.value, 3u);
    for (const auto& value : {a, b, c, before}) {
        auto found = get(value);
        CAF_REQUIRE(found.has_value());
        CAF_CHECK(found->data == value);
    }
    CAF_CHECK(!get(bad).has_value());
    // One append for the three stored, in batch order, after the first.
    CAF_REQUIRE_EQUAL(appended->size(), 4u);
    CAF_CHECK((*appended)[1].data == a);
    CAF_CHECK((*appended)[2].data == b);
    CAF_CHECK((*appended)[3].data == c);
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 4u);
    CAF_CHECK_EQUAL(st.puts_stored, 4u);
    CAF_CHECK_EQUAL(st.puts_refused, 1u);
    CAF_CHECK_EQUAL(st.put_refusals[name_of(errc::bad_signature)], 1);
    CAF_CHECK_EQUAL(st.puts_identical, 2u);
    // While the backup is unwritable a batch is refused whole, unstored.
    caf::anon_send(shard, writable_atom_v, false);
    sched.run();
    batch = {};
    add(signed_dat(keys, "late", "5", base_time), 4);
    reply = ask<std::uint64_t>(store_atom_v, batch);
    CAF_REQUIRE(reply.value.has_value());
    CAF_CHECK_EQUAL(*reply.value, 0u);
    // Bound first: the check keeps a reference to its operand, and a map
    // element of a temporary status would dangle.
    auto after = status();
    CAF_CHECK_EQUAL(after.put_refusals[name_of(errc::backup_unavailable)], 1);
}

CAF_TEST(invalid dats are refused and not stored) {
    start(1 << 20, 16);
    auto keys = keys_for(1);
    // Changing the value keeps the work valid but breaks the signature.
    auto bad_signature = signed_dat(keys, "sig", "v", base_time, 16);
    bad_signature.value = text_bytes("w");
    check_refused(bad_signature, errc::bad_signature);
    // A work that is not BLAKE3(salt ‖ BLAKE3(sig)).
    auto bad_work = signed_dat(keys, "work", "v", base_time, 16);
    bad_work.work[31] ^= 0x01;
    check_refused(bad_work, errc::work_mismatch);
    // A changed signature no longer matches its work either.
    auto bad_sig_bytes = signed_dat(keys, "sigbytes", "v", base_time, 16);
    bad_sig_bytes.signature[0] ^= 0x01;
    check_refused(bad_sig_bytes, errc::work_mismatch);
    // Valid work at difficulty 8, below this shard's minimum of 16.
    std::optional<dat> weak;
    for (int i = 0; i < 64 && !weak; ++i) {
        auto candidate = signed_dat(keys, "weak", "v" + std::to_string(i), base_time, 8);
        if (leading_zero_bits(candidate.work) < 16)
            weak = candidate;
    }
    CAF_REQUIRE(weak.has_value());
    check_refused(*weak, errc::insufficient_work);
    // From further in the future than the allowed clock skew.
    auto future = signed_dat(keys, "future", "v", *wall + max_clock_skew_ms + 1, 16);
    check_refused(future, errc::time_in_future);
    // Larger than one datagram allows (checked before anything else).
    dat oversize = signed_dat(keys, "big", "v", base_time, 16);
    oversize.value.assign(max_key_value_length, 0x61);
    check_refused(oversize, errc::too_long);
    for (auto* value : {&bad_signature, &bad_work, &bad_sig_bytes, &*weak, &future, &oversize})
        CAF_CHECK(!get(*value).has_value());
    CAF_CHECK(appended->empty());
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 0u);
    CAF_CHECK_EQUAL(st.used_bytes, 0u);
    CAF_CHECK_EQUAL(st.puts_stored, 0u);
    CAF_CHECK_EQUAL(st.puts_refused, 6u);
    // The valid original of one of them is accepted.
    require_stored(signed_dat(keys, "sig", "v", base_time, 16));
}

// -- eviction by priority ----------------------------------------------------------

CAF_TEST(dats older than the TTL are refused and counted and a few seconds ahead are stored) {
    start();
    const std::uint64_t ttl = default_ttl_ms;
    auto keys = keys_for(1);
    // time 0, and exactly time + TTL = now: both expired.
    auto zero = signed_dat(keys, "zero", "v", 0);
    auto just_expired = signed_dat(keys, "just", "v", *wall - ttl);
    check_refused(zero, errc::expired);
    check_refused(just_expired, errc::expired);
    // One millisecond younger is still alive.
    require_stored(signed_dat(keys, "alive", "v", *wall - ttl + 1));
    // A writer whose clock is 5 s (or the whole skew) ahead is not refused.
    require_stored(signed_dat(keys, "ahead", "v", *wall + 5000));
    require_stored(signed_dat(keys, "skew", "v", *wall + max_clock_skew_ms));
    check_refused(signed_dat(keys, "beyond", "v", *wall + max_clock_skew_ms + 1),
                  errc::time_in_future);
    // Once "alive" has aged past the TTL (before the pruner removes it), a
    // newer but also expired version of it is refused too, not stored.
    const std::uint64_t newer_time = *wall - ttl + 2;
    *wall += 10;
    check_refused(signed_dat(keys, "alive", "v2", newer_time), errc::expired);
    CAF_CHECK(!get(zero).has_value());
    CAF_CHECK(!get(just_expired).has_value());
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 3u);
    CAF_CHECK_EQUAL(st.puts_refused, 4u);
    CAF_CHECK_EQUAL(count_named(st.put_refusals, "expired"), 3u);
    CAF_CHECK_EQUAL(count_named(st.put_refusals, "time_in_future"), 1u);
}

CAF_TEST(when full a newcomer evicts only entries of lower priority by distance) {
    // Four owners, same time: priority falls with the XOR distance between
    // our node ID and the owner's key.
    std::vector<key_pair> owners;
    for (std::uint8_t n = 1; n <= 4; ++n)
        owners.push_back(keys_for(n));
    std::sort(owners.begin(), owners.end(), [&](const key_pair& a, const key_pair& b) {
        return distance(own_id, a.public_key) > distance(own_id, b.public_key);
    });
    // owners[0] has the lowest priority, owners[3] the highest.
    std::vector<dat> dats;
    for (std::size_t i = 0; i < owners.size(); ++i)
        dats.push_back(signed_dat(owners[i], "k", "value-0" + std::to_string(i), base_time));
    for (std::size_t i = 1; i < dats.size(); ++i)
        CAF_REQUIRE(entry_priority(dats[i - 1], own_id, default_ttl_ms, *wall) <
                    entry_priority(dats[i], own_id, default_ttl_ms, *wall));
    const std::size_t one = stored_size(as_entry(dats[0]));
    start(2 * one + one / 2); // room for two
    require_stored(dats[1]);
    require_stored(dats[2]);
    // Lower than everything stored: refused, nothing evicted.
    check_refused(dats[0], errc::store_full);
    CAF_CHECK(get(dats[1]).has_value());
    CAF_CHECK(get(dats[2]).has_value());
    // Higher than the lowest stored: evicts exactly that one.
    require_stored(dats[3]);
    CAF_CHECK(!get(dats[1]).has_value());
    CAF_CHECK(get(dats[2]).has_value());
    CAF_CHECK(get(dats[3]).has_value());
    CAF_CHECK(!get(dats[0]).has_value());
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 2u);
    CAF_CHECK_EQUAL(st.used_bytes, 2 * one);
    CAF_CHECK_EQUAL(st.puts_refused, 1u);
    // The backup saw each stored entry once, the refused one never.
    CAF_REQUIRE_EQUAL(appended->size(), 3u);
    CAF_CHECK((*appended)[0].data == dats[1]);
    CAF_CHECK((*appended)[1].data == dats[2]);
    CAF_CHECK((*appended)[2].data == dats[3]);
}

CAF_TEST(when full a newcomer evicts only entries of lower priority by age) {
    // One owner, so the same distance: priority falls as time + TTL nears.
    auto keys = keys_for(7);
    auto oldest = signed_dat(keys, "a", "0123456789", base_time - 2 * day_ms);
    auto old = signed_dat(keys, "b", "0123456789", base_time - day_ms);
    auto older_still = signed_dat(keys, "c", "0123456789", base_time - 3 * day_ms);
    auto fresh = signed_dat(keys, "d", "0123456789", base_time);
    const std::size_t one = stored_size(as_entry(oldest));
    start(2 * one);
    require_stored(oldest);
    require_stored(old);
    check_refused(older_still, errc::store_full);
    require_stored(fresh);
    CAF_CHECK(!get(oldest).has_value());
    CAF_CHECK(get(old).has_value());
    CAF_CHECK(get(fresh).has_value());
    CAF_CHECK(!get(older_still).has_value());
    CAF_CHECK_EQUAL(appended->size(), 3u);
}

CAF_TEST(an entry larger than the whole shard is refused) {
    auto value = signed_dat(keys_for(1), "k", std::string(100, 'x'), base_time);
    start(stored_size(as_entry(value)) - 1);
    check_refused(value, errc::store_full);
    CAF_CHECK(appended->empty());
}

// -- serving GETs --------------------------------------------------------------------

CAF_TEST(a GET is answered through the writer with the entry or not found) {
    start();
    auto keys = keys_for(1);
    auto value = signed_dat(keys, "present", "here", base_time);
    entry item = as_entry(value);
    item.replicas = {5, 4, 3, 2, 1};
    CAF_REQUIRE(store(item).stored.value_or(false));
    auto asker = make_address(9);
    self->send(shard, serve_atom_v, asker, get_message{keys.public_key, text_bytes("present")});
    sched.run();
    CAF_REQUIRE_EQUAL(sent->size(), 1u);
    CAF_CHECK((*sent)[0].peer == asker);
    auto decoded = decode_message((*sent)[0].payload);
    CAF_REQUIRE(decoded.has_value());
    auto* ack = std::get_if<get_ack_message>(&*decoded);
    CAF_REQUIRE(ack != nullptr);
    CAF_CHECK(ack->item == item);
    CAF_CHECK(!is_not_found(ack->item.data));
    CAF_CHECK_EQUAL(name_of(verify_dat(ack->item.data, *wall, 8)), name_of(errc::none));
    sent->clear();
    // A key that is not stored: the "not found" GET_ACK for that key.
    auto other = make_address(10);
    self->send(shard, serve_atom_v, other, get_message{keys.public_key, text_bytes("absent")});
    sched.run();
    CAF_REQUIRE_EQUAL(sent->size(), 1u);
    CAF_CHECK((*sent)[0].peer == other);
    decoded = decode_message((*sent)[0].payload);
    CAF_REQUIRE(decoded.has_value());
    ack = std::get_if<get_ack_message>(&*decoded);
    CAF_REQUIRE(ack != nullptr);
    CAF_CHECK(is_not_found(ack->item.data));
    CAF_CHECK(ack->item.data.public_key == keys.public_key);
    CAF_CHECK(ack->item.data.key == text_bytes("absent"));
    CAF_CHECK(ack->item.data.value.empty());
    CAF_CHECK(*ack == make_not_found(keys.public_key, text_bytes("absent")));
    // Same key, another owner: not found either.
    sent->clear();
    auto stranger = keys_for(2);
    self->send(shard, serve_atom_v, other, get_message{stranger.public_key, text_bytes("present")});
    sched.run();
    CAF_REQUIRE_EQUAL(sent->size(), 1u);
    decoded = decode_message((*sent)[0].payload);
    CAF_REQUIRE(decoded.has_value());
    ack = std::get_if<get_ack_message>(&*decoded);
    CAF_REQUIRE(ack != nullptr);
    CAF_CHECK(is_not_found(ack->item.data));
    CAF_CHECK(ack->item.data.public_key == stranger.public_key);
}

CAF_TEST(with a direct sender a GET is answered on the socket without the writer) {
    auto socket = open_udp_socket(loopback_address(0));
    CAF_REQUIRE(socket.has_value());
    shard_setup setup;
    setup.config.own_node_id = own_id;
    setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
    setup.direct = std::make_shared<const udp_direct_sender>(socket->socket);
    setup.wall_clock_ms = [wall = wall] { return *wall; };
    shard = spawn_shard(sys, std::move(setup));
    sched.run();
    auto keys = keys_for(1);
    auto value = signed_dat(keys, "present", "here", base_time);
    require_stored(value);
    udp_client asker;
    self->send(shard, serve_atom_v, asker.local(),
               get_message{keys.public_key, text_bytes("present")});
    sched.run();
    auto answer = asker.receive(std::chrono::seconds(2));
    CAF_REQUIRE(answer.has_value());
    CAF_CHECK(answer->from == socket->bound);
    auto decoded = decode_message(answer->payload);
    CAF_REQUIRE(decoded.has_value());
    auto* ack = std::get_if<get_ack_message>(&*decoded);
    CAF_REQUIRE(ack != nullptr);
    CAF_CHECK(ack->item.data == value);
    // A miss goes the same way.
    self->send(shard, serve_atom_v, asker.local(),
               get_message{keys.public_key, text_bytes("absent")});
    sched.run();
    answer = asker.receive(std::chrono::seconds(2));
    CAF_REQUIRE(answer.has_value());
    decoded = decode_message(answer->payload);
    CAF_REQUIRE(decoded.has_value());
    ack = std::get_if<get_ack_message>(&*decoded);
    CAF_REQUIRE(ack != nullptr);
    CAF_CHECK(is_not_found(ack->item.data));
    // Nothing went through the writer, and the shard counts what it sent.
    CAF_CHECK(sent->empty());
    auto report = ask<metric_report>(metrics_atom_v);
    CAF_REQUIRE(report.value.has_value());
    auto out_by_op = report.value->by_label("dave_datagrams_out_total", "op"); // bound: see above
    CAF_CHECK_EQUAL(out_by_op["get_ack"], 2);
}

CAF_TEST(a shard without a backup stores all the same) {
    shard_setup setup;
    setup.config.own_node_id = own_id;
    setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
    setup.wall_clock_ms = [wall = wall] { return *wall; };
    shard = spawn_shard(sys, std::move(setup));
    sched.run();
    auto value = signed_dat(keys_for(1), "k", "v", base_time);
    require_stored(value);
    CAF_CHECK(get(value).has_value());
    CAF_CHECK(appended->empty());
}

// -- restore and expiry ---------------------------------------------------------------

CAF_TEST(restored entries are served but not appended to the backup again) {
    start();
    auto a = signed_dat(keys_for(1), "a", "1", base_time);
    auto b = signed_dat(keys_for(2), "b", "2", base_time);
    self->send(shard, restore_atom_v, std::vector<entry>{as_entry(a), as_entry(b)});
    sched.run();
    CAF_CHECK(get(a).has_value());
    CAF_CHECK(get(b).has_value());
    CAF_CHECK(appended->empty());
    CAF_CHECK_EQUAL(status().entries, 2u);
    // A later identical PUT is a no-op.
    auto reply = store(a);
    CAF_REQUIRE(reply.stored.has_value());
    CAF_CHECK(!*reply.stored);
}

// The dispatcher sends GETs with high priority, which a shard takes before
// normal messages already waiting. A restore must not be overtaken so (a
// node restarted on a loaded machine answered "not found" for entries its
// backup held): restore_shard sends it with the same priority.
CAF_TEST(a GET sent after the restore is answered from the restored entries) {
    start();
    auto keys = keys_for(1);
    auto value = signed_dat(keys, "restored", "1", base_time);
    auto ask = [&] {
        self->send<caf::message_priority::high>(
            shard, serve_atom_v, make_address(9),
            get_message{keys.public_key, text_bytes("restored")});
    };
    // Both wait in the mailbox before the shard runs.
    restore_shard(shard, std::vector<entry>{as_entry(value)});
    ask();
    sched.run();
    auto ack = only_get_ack(*sent);
    CAF_REQUIRE(ack.has_value());
    CAF_CHECK(ack->item.data == value);
    // The control: a restore sent with normal priority is overtaken.
    sent->clear();
    auto later = signed_dat(keys, "later", "2", base_time);
    self->send(shard, restore_atom_v, std::vector<entry>{as_entry(later)});
    self->send<caf::message_priority::high>(shard, serve_atom_v, make_address(9),
                                            get_message{keys.public_key, text_bytes("later")});
    sched.run();
    ack = only_get_ack(*sent);
    CAF_REQUIRE(ack.has_value());
    CAF_CHECK(is_not_found(ack->item.data));
    CAF_CHECK(get(later).has_value()); // stored all the same, just too late
}

CAF_TEST(expire removes entries once time plus TTL has passed) {
    shard_setup setup;
    setup.config.own_node_id = own_id;
    setup.config.ttl_ms = 10'000;
    setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
    setup.backup = caf::actor_cast<backup_writer_actor>(backup);
    setup.wall_clock_ms = [wall = wall] { return *wall; };
    shard = spawn_shard(sys, std::move(setup));
    sched.run();
    *wall = base_time + 1000;
    auto early = signed_dat(keys_for(1), "early", "v", base_time);
    auto late = signed_dat(keys_for(1), "late", "v", base_time + 1000);
    require_stored(early);
    require_stored(late);
    *wall = base_time + 9'999;
    self->send(shard, expire_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(status().entries, 2u);
    *wall = base_time + 10'000; // early's time + TTL
    self->send(shard, expire_atom_v);
    sched.run();
    CAF_CHECK(!get(early).has_value());
    CAF_CHECK(get(late).has_value());
    auto st = status();
    CAF_CHECK_EQUAL(st.entries, 1u);
    CAF_CHECK_EQUAL(st.used_bytes, stored_size(as_entry(late)));
}

CAF_TEST_FIXTURE_SCOPE_END()

// The crypto layer's own rules: each verification failure is its own errc,
// key files are private and exact, make_dat keeps the codec's size limits,
// and search_work finds valid work at any difficulty and thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "crypto/blake3_hash.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/key_file.hpp"
#include "crypto/proof_of_work.hpp"
#include "crypto/work_filter.hpp"

namespace {

using namespace dave;
namespace fs = std::filesystem;

constexpr std::uint64_t a_time = 1733900000123;

key_pair fixed_keys(std::uint8_t fill) {
    seed_bytes seed;
    seed.fill(fill);
    return key_pair::from_seed(seed);
}

bytes text_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

dat made_dat(int difficulty) {
    result<dat> made =
        make_dat(fixed_keys(3), text_bytes("key"), text_bytes("value"), a_time, difficulty, 1);
    REQUIRE(made);
    return *made;
}

// A fresh directory per test, removed afterwards.
struct temporary_directory {
    fs::path path;
    temporary_directory() {
        std::string pattern = (fs::temp_directory_path() / "dave-crypto-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temporary_directory() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

mode_t file_mode(const fs::path& path) {
    struct stat status {};
    REQUIRE(::stat(path.c_str(), &status) == 0);
    return status.st_mode & 07777;
}

void write_raw(const fs::path& path, const bytes& content, mode_t mode) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(content.data()),
                  static_cast<std::streamsize>(content.size()));
    }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

hash_bytes hash_with_first_bytes(std::initializer_list<std::uint8_t> first) {
    hash_bytes hash;
    hash.fill(0xFF);
    std::copy(first.begin(), first.end(), hash.begin());
    return hash;
}

// The first word of a hash as the work-lane kernels report it: bytes 0-3
// little-endian (work_lanes_test checks the kernels against this reading).
std::uint32_t first_word(const hash_bytes& hash) {
    return static_cast<std::uint32_t>(hash[0]) | static_cast<std::uint32_t>(hash[1]) << 8 |
           static_cast<std::uint32_t>(hash[2]) << 16 | static_cast<std::uint32_t>(hash[3]) << 24;
}

} // namespace

TEST_CASE("leading_zero_bits counts from the top bit of byte 0") {
    CHECK(leading_zero_bits(hash_with_first_bytes({0x80})) == 0);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x40})) == 1);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x01})) == 7);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x00, 0x80})) == 8);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x00, 0x00, 0x00, 0x00, 0x80})) == 32);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x00, 0x00, 0x00, 0x00, 0x7F})) == 33);
    CHECK(leading_zero_bits(hash_with_first_bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x01})) == 47);
    CHECK(leading_zero_bits(hash_bytes{}) == 256);
}

TEST_CASE("blake3 of parts equals blake3 of the concatenation") {
    bytes whole = text_bytes("hello world, this is more than nothing");
    byte_span all(whole);
    CHECK(blake3({all.first(5), all.subspan(5, 10), all.subspan(15)}) == blake3(all));
    CHECK(blake3({}) == blake3(byte_span{}));
    // The published BLAKE3 hash of the empty input.
    hash_bytes empty = blake3(byte_span{});
    CHECK(empty[0] == 0xaf);
    CHECK(empty[1] == 0x13);
    CHECK(empty[31] == 0x62);
}

TEST_CASE("Ed25519 sign and verify") {
    key_pair keys = key_pair::generate();
    key_pair other = key_pair::generate();
    CHECK(keys.public_key != other.public_key);
    bytes message = text_bytes("message");
    signature_bytes signature = sign(keys, message);
    CHECK(verify_signature(keys.public_key, message, signature));
    CHECK_FALSE(verify_signature(other.public_key, message, signature));
    message[0] ^= 1;
    CHECK_FALSE(verify_signature(keys.public_key, message, signature));

    key_pair copy;
    CHECK(key_pair::from_secret_key(keys.secret_key, copy));
    CHECK(copy.public_key == keys.public_key);
    secret_key_bytes mismatched = keys.secret_key;
    std::copy(other.public_key.begin(), other.public_key.end(), mismatched.begin() + 32);
    CHECK_FALSE(key_pair::from_secret_key(mismatched, copy));

    std::array<std::uint8_t, 32> first{}, second{};
    random_bytes(first);
    random_bytes(second);
    CHECK(first != second);
}

TEST_CASE("verify_dat: a made dat verifies") {
    dat value = made_dat(8);
    CHECK(verify_dat(value, a_time, 8) == errc::none);
    CHECK(verify_dat(value, a_time + 1000, 8) == errc::none);
    CHECK(leading_zero_bits(value.work) >= 8);
    CHECK(value.public_key == fixed_keys(3).public_key);
}

TEST_CASE("verify_dat: each failure has its own errc, in the documented order") {
    dat valid = made_dat(8);

    SUBCASE("time after now by more than the allowed clock skew") {
        const std::uint64_t too_early = a_time - max_clock_skew_ms - 1;
        CHECK(verify_dat(valid, too_early, 8) == errc::time_in_future);
        // Time is checked first: even a dat that is wrong in every other way.
        dat broken = valid;
        broken.work[0] ^= 1;
        broken.signature[0] ^= 1;
        CHECK(verify_dat(broken, too_early, 8) == errc::time_in_future);
    }
    SUBCASE("time after now, within the allowed clock skew") {
        CHECK(verify_dat(valid, a_time - 1, 8) == errc::none);
        CHECK(verify_dat(valid, a_time - 5000, 8) == errc::none);
        CHECK(verify_dat(valid, a_time - max_clock_skew_ms, 8) == errc::none);
    }
    SUBCASE("expired: time + ttl reached, checked before the work") {
        const std::uint64_t ttl = 60'000;
        CHECK(verify_dat(valid, a_time + ttl - 1, 8, ttl) == errc::none);
        CHECK(verify_dat(valid, a_time + ttl, 8, ttl) == errc::expired);
        CHECK(verify_dat(valid, a_time + 10 * ttl, 8, ttl) == errc::expired);
        dat broken = valid;
        broken.work[0] ^= 1;
        CHECK(verify_dat(broken, a_time + ttl, 8, ttl) == errc::expired);
        // Without a TTL (GET answers, the backup replay) age does not matter.
        CHECK(verify_dat(valid, a_time + 10 * ttl, 8) == errc::none);
    }
    SUBCASE("flipped work byte") {
        dat broken = valid;
        broken.work[31] ^= 1;
        CHECK(verify_dat(broken, a_time, 8) == errc::work_mismatch);
    }
    SUBCASE("flipped salt byte") {
        dat broken = valid;
        broken.salt[0] ^= 1;
        CHECK(verify_dat(broken, a_time, 8) == errc::work_mismatch);
    }
    SUBCASE("flipped signature byte: the work no longer matches") {
        dat broken = valid;
        broken.signature[10] ^= 1;
        CHECK(verify_dat(broken, a_time, 8) == errc::work_mismatch);
    }
    SUBCASE("matching work with too few zero bits") {
        int bits = leading_zero_bits(valid.work);
        CHECK(verify_dat(valid, a_time, bits) == errc::none);
        CHECK(verify_dat(valid, a_time, bits + 1) == errc::insufficient_work);
        CHECK(verify_dat(valid, a_time, 64) == errc::insufficient_work);
        // Insufficient work is found before a bad signature.
        dat broken = valid;
        broken.value.push_back('!');
        CHECK(verify_dat(broken, a_time, bits + 1) == errc::insufficient_work);
    }
    SUBCASE("work over the signature is fine but the signature is not") {
        // The work covers only the signature, so changing what was signed
        // leaves the work valid and breaks the signature.
        dat changed_value = valid;
        changed_value.value.push_back('!');
        CHECK(verify_dat(changed_value, a_time, 8) == errc::bad_signature);
        dat changed_time = valid;
        changed_time.time_ms -= 1;
        CHECK(verify_dat(changed_time, a_time, 8) == errc::bad_signature);
        dat changed_key = valid;
        changed_key.public_key = fixed_keys(4).public_key;
        CHECK(verify_dat(changed_key, a_time, 8) == errc::bad_signature);
    }
    SUBCASE("a signature that matches its work but is not a signature") {
        dat forged = valid;
        forged.signature.fill(0x55);
        work_found found = search_work(forged.signature, 8, 1);
        forged.salt = found.salt;
        forged.work = found.work;
        CHECK(verify_dat(forged, a_time, 8) == errc::bad_signature);
    }
}

TEST_CASE("check_dat_time: the skew and TTL bounds, at the edges and near 2^64") {
    constexpr std::uint64_t now = 1'800'000'000'000;
    constexpr std::uint64_t year = 365ULL * 24 * 3600 * 1000;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    SUBCASE("the future: up to max_clock_skew_ms ahead is accepted") {
        CHECK(max_clock_skew_ms == 30'000);
        CHECK(check_dat_time(now, now, year) == errc::none);
        CHECK(check_dat_time(now + 3000, now, year) == errc::none);
        CHECK(check_dat_time(now + max_clock_skew_ms, now, year) == errc::none);
        CHECK(check_dat_time(now + max_clock_skew_ms + 1, now, year) == errc::time_in_future);
        CHECK(check_dat_time(max, now, year) == errc::time_in_future);
        CHECK(check_dat_time(max, now) == errc::time_in_future);
    }
    SUBCASE("the past: expired once time + ttl <= now, as the store expires") {
        CHECK(check_dat_time(0, now, year) == errc::expired);
        CHECK(check_dat_time(1, now, year) == errc::expired);
        CHECK(check_dat_time(now - year, now, year) == errc::expired);
        CHECK(check_dat_time(now - year + 1, now, year) == errc::none);
        CHECK(check_dat_time(now - 1, now, 1) == errc::expired);
        CHECK(check_dat_time(now, now, 1) == errc::none);
    }
    SUBCASE("no TTL: only the future is refused") {
        CHECK(check_dat_time(0, now) == errc::none);
        CHECK(check_dat_time(0, now, no_ttl) == errc::none);
        CHECK(check_dat_time(now + max_clock_skew_ms, now) == errc::none);
    }
    SUBCASE("sums saturate instead of wrapping") {
        // now near 2^64: now + skew must not wrap to a small number.
        CHECK(check_dat_time(max - 1, max - 10) == errc::none);
        CHECK(check_dat_time(max, max) == errc::none);
        // time near 2^64 with a TTL: time + ttl must not wrap into the past.
        CHECK(check_dat_time(max - 5, max - 10, year) == errc::none);
        CHECK(check_dat_time(max - 5, max, 3) == errc::expired);
    }
}

TEST_CASE("make_dat refuses what the codec cannot encode") {
    key_pair keys = fixed_keys(5);
    CHECK(make_dat(keys, bytes(256, 'k'), {}, a_time, 0).error() == errc::key_too_long);
    CHECK(make_dat(keys, bytes(255, 'k'), bytes(max_key_value_length - 254, 'v'), a_time, 0)
              .error() == errc::too_long);
    CHECK(make_dat(keys, {}, bytes(max_key_value_length + 1, 'v'), a_time, 0).error() ==
          errc::too_long);

    result<dat> largest =
        make_dat(keys, bytes(255, 'k'), bytes(max_key_value_length - 255, 'v'), a_time, 0);
    REQUIRE(largest);
    CHECK(verify_dat(*largest, a_time, 0) == errc::none);
    result<dat> empty = make_dat(keys, {}, {}, a_time, 0);
    REQUIRE(empty);
    CHECK(verify_dat(*empty, a_time, 0) == errc::none);
}

TEST_CASE("search_work: difficulty 0 returns the first salt at once") {
    signature_bytes signature;
    signature.fill(9);
    work_found found = search_work(signature, 0, 0);
    CHECK(found.salt == salt_bytes{});
    CHECK(found.work == work_hash(found.salt, signature));
    CHECK(found.attempts == 1);
    // Negative difficulties mean the same.
    CHECK(search_work(signature, -5, 1).salt == salt_bytes{});
}

TEST_CASE("search_work: difficulties 8 and 16 on one thread and on all") {
    for (int difficulty : {1, 8, 12, 16}) {
        for (unsigned threads : {1u, 0u}) {
            signature_bytes signature;
            random_bytes(signature);
            work_found found = search_work(signature, difficulty, threads);
            INFO("difficulty ", difficulty, " threads ", threads);
            CHECK(found.work == work_hash(found.salt, signature));
            CHECK(leading_zero_bits(found.work) >= difficulty);
            CHECK(found.attempts >= 1);
            // godave's order: counters in bytes 8..16 first.
            CHECK(std::all_of(found.salt.begin(), found.salt.begin() + 8,
                              [](std::uint8_t b) { return b == 0; }));
        }
    }
}

TEST_CASE("search_work: the answer does not depend on the thread count") {
    for (int round = 0; round < 4; ++round) {
        signature_bytes signature;
        random_bytes(signature);
        work_found one = search_work(signature, 14, 1);
        for (unsigned threads : {2u, 3u, 8u, 0u}) {
            work_found many = search_work(signature, 14, threads);
            CHECK(many.salt == one.salt);
            CHECK(many.work == one.work);
        }
    }
}

TEST_CASE("search_work: the salt found is the first in counter order") {
    signature_bytes signature;
    signature.fill(0x42);
    work_found found = search_work(signature, 10, 0);
    std::uint64_t counter = 0;
    for (int i = 7; i >= 0; --i)
        counter = counter << 8 | found.salt[8 + static_cast<std::size_t>(i)];
    for (std::uint64_t earlier = 0; earlier < counter; ++earlier) {
        salt_bytes salt{};
        for (int i = 0; i < 8; ++i)
            salt[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(earlier >> (8 * i));
        REQUIRE(leading_zero_bits(work_hash(salt, signature)) < 10);
    }
}

TEST_CASE("work filter: the first word decides up to 32 bits, the hash above") {
    // A 33-bit search takes half a minute of both cores, so the path above
    // 32 bits is tested through the filter it relies on, on crafted hashes.
    std::vector<hash_bytes> hashes;
    for (int zero_bits = 0; zero_bits <= 48; ++zero_bits) {
        hash_bytes hash;
        hash.fill(0xFF);
        for (int bit = 0; bit < zero_bits; ++bit)
            hash[static_cast<std::size_t>(bit / 8)] &=
                static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
        hashes.push_back(hash);
        hash_bytes low_bits_set = hash;
        low_bits_set[31] = 1; // bits after the first word never matter to it
        hashes.push_back(low_bits_set);
    }
    for (int difficulty = 0; difficulty <= 48; ++difficulty) {
        const std::uint32_t mask = work_filter::first_word_mask(difficulty);
        for (const hash_bytes& hash : hashes) {
            const int bits = leading_zero_bits(hash);
            const bool candidate = work_filter::is_candidate(first_word(hash), mask);
            INFO("difficulty ", difficulty, " zero bits ", bits);
            CHECK(candidate == (bits >= std::min(difficulty, 32)));
            CHECK(work_filter::needs_full_hash(difficulty) == (difficulty > 32));
            // What search_chunk accepts: a candidate, then the full hash if needed.
            const bool accepted =
                candidate && (!work_filter::needs_full_hash(difficulty) || bits >= difficulty);
            CHECK(accepted == (bits >= difficulty));
        }
    }
}

TEST_CASE("search_work_until gives up at its deadline") {
    signature_bytes signature;
    random_bytes(signature);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    bounded_work_search run = search_work_until(signature, 48, 0, deadline);
    CHECK(run.result.attempts > 0);
    if (run.found) { // once in 2^48 / rate: still must be right
        CHECK(leading_zero_bits(run.result.work) >= 48);
        CHECK(run.result.work == work_hash(run.result.salt, signature));
    }
    CHECK(std::chrono::steady_clock::now() < deadline + std::chrono::seconds(1));
    // A past deadline gives up after at most the first chunk.
    bounded_work_search late =
        search_work_until(signature, 200, 1, std::chrono::steady_clock::now());
    CHECK_FALSE(late.found);
    CHECK(late.result.attempts <= 4096);
}

TEST_CASE("search_work_until finds easy work before its deadline") {
    signature_bytes signature;
    random_bytes(signature);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bounded_work_search run = search_work_until(signature, 12, 0, deadline);
    REQUIRE(run.found);
    CHECK(leading_zero_bits(run.result.work) >= 12);
    CHECK(run.result.salt == search_work(signature, 12, 1).salt);
}

TEST_CASE("key file: save creates 0600, load returns the same keys") {
    temporary_directory directory;
    fs::path path = directory.path / "node.key";
    key_pair keys = key_pair::generate();
    // The file must be 0600 whatever the umask, even one that would strip
    // the owner's write bit.
    mode_t previous = ::umask(0277);
    CHECK(save_key_file(path, keys) == errc::none);
    ::umask(previous);
    CHECK(file_mode(path) == 0600);
    CHECK(fs::file_size(path) == 64);
    result<key_pair> loaded = load_key_file(path);
    REQUIRE(loaded);
    CHECK(loaded->public_key == keys.public_key);
    CHECK(loaded->secret_key == keys.secret_key);
    // No temporary file is left behind.
    CHECK(std::distance(fs::directory_iterator(directory.path), fs::directory_iterator()) == 1);
}

TEST_CASE("key file: the file holds godave's raw 64-byte private key") {
    temporary_directory directory;
    fs::path path = directory.path / "node.key";
    key_pair keys = fixed_keys(7);
    REQUIRE(save_key_file(path, keys) == errc::none);
    std::ifstream in(path, std::ios::binary);
    bytes content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == bytes(keys.secret_key.begin(), keys.secret_key.end()));
}

TEST_CASE("key file: refusals") {
    temporary_directory directory;
    fs::path path = directory.path / "node.key";
    key_pair keys = key_pair::generate();

    SUBCASE("missing") {
        CHECK(load_key_file(path).error() == errc::key_file_io);
    }
    SUBCASE("a directory") {
        CHECK(load_key_file(directory.path).error() == errc::key_file_io);
    }
    SUBCASE("wrong size") {
        write_raw(path, bytes(63, 1), 0600);
        CHECK(load_key_file(path).error() == errc::key_file_size);
        write_raw(path, bytes(65, 1), 0600);
        CHECK(load_key_file(path).error() == errc::key_file_size);
        write_raw(path, bytes(32, 1), 0600);
        CHECK(load_key_file(path).error() == errc::key_file_size);
        write_raw(path, {}, 0600);
        CHECK(load_key_file(path).error() == errc::key_file_size);
    }
    SUBCASE("public half does not match the seed") {
        bytes content(keys.secret_key.begin(), keys.secret_key.end());
        content[40] ^= 1;
        write_raw(path, content, 0600);
        CHECK(load_key_file(path).error() == errc::key_file_size);
    }
    SUBCASE("group or others may access it") {
        REQUIRE(save_key_file(path, keys) == errc::none);
        for (mode_t mode : {0644, 0640, 0604, 0601, 0610, 0660, 0666}) {
            REQUIRE(::chmod(path.c_str(), mode) == 0);
            CHECK(load_key_file(path).error() == errc::key_file_mode);
        }
        REQUIRE(::chmod(path.c_str(), 0400) == 0);
        CHECK(load_key_file(path));
    }
    SUBCASE("save refuses an existing file unless told to overwrite") {
        REQUIRE(save_key_file(path, keys) == errc::none);
        key_pair other = key_pair::generate();
        CHECK(save_key_file(path, other) == errc::key_file_exists);
        CHECK(load_key_file(path)->public_key == keys.public_key);
        CHECK(save_key_file(path, other, true) == errc::none);
        CHECK(load_key_file(path)->public_key == other.public_key);
        CHECK(file_mode(path) == 0600);
    }
    SUBCASE("save into a missing directory") {
        CHECK(save_key_file(directory.path / "missing" / "node.key", keys) == errc::key_file_io);
    }
}

TEST_CASE("key file: describe_key_file_problem says what is wrong with each bad file") {
    temporary_directory directory;
    fs::path path = directory.path / "node.key";
    key_pair keys = key_pair::generate();
    auto describe = [&](const fs::path& file) {
        auto loaded = load_key_file(file);
        REQUIRE(!loaded);
        return describe_key_file_problem(file, loaded.error());
    };
    CHECK(std::string(key_file_expected) ==
          "expected 64 bytes (the raw Ed25519 seed and public key, as godave writes) with mode "
          "0600");
    SUBCASE("missing, or its folder missing") {
        CHECK(describe(path) == "does not exist");
        CHECK(describe(directory.path / "no" / "node.key") ==
              "its folder " + (directory.path / "no").string() + " does not exist");
    }
    SUBCASE("a directory") {
        CHECK(describe(directory.path) == "is a directory");
    }
    SUBCASE("a dangling symlink") {
        fs::create_symlink(directory.path / "gone.key", path);
        CHECK(describe(path) ==
              "is a dangling symlink to " + (directory.path / "gone.key").string());
    }
    SUBCASE("a symlink to a good key file loads") {
        REQUIRE(save_key_file(directory.path / "real.key", keys) == errc::none);
        fs::create_symlink(directory.path / "real.key", path);
        CHECK(load_key_file(path));
    }
    SUBCASE("wrong sizes") {
        write_raw(path, {}, 0600);
        CHECK(describe(path) == "is 0 bytes");
        write_raw(path, bytes(63, 1), 0600);
        CHECK(describe(path) == "is 63 bytes");
        write_raw(path, bytes(65, 1), 0600);
        CHECK(describe(path) == "is 65 bytes");
    }
    SUBCASE("64 bytes of garbage") {
        bytes content(keys.secret_key.begin(), keys.secret_key.end());
        content[40] ^= 1;
        write_raw(path, content, 0600);
        CHECK(describe(path) == "is not an Ed25519 key (its last 32 bytes are not the public key "
                                "of the first 32)");
    }
    SUBCASE("group or others may access it") {
        REQUIRE(save_key_file(path, keys) == errc::none);
        REQUIRE(::chmod(path.c_str(), 0644) == 0);
        CHECK(describe(path) == "has mode 0644 (group or others may access it)");
        REQUIRE(::chmod(path.c_str(), 0604) == 0);
        CHECK(describe(path) == "has mode 0604 (group or others may access it)");
    }
    SUBCASE("save onto an existing file or a directory") {
        REQUIRE(save_key_file(path, keys) == errc::none);
        CHECK(describe_key_file_problem(path, save_key_file(path, keys)) == "already exists");
        auto onto_directory = save_key_file(directory.path, keys, true);
        REQUIRE(onto_directory != errc::none);
        CHECK(describe_key_file_problem(directory.path, onto_directory) == "is a directory");
    }
}

TEST_CASE("key file: load_or_create creates once, then loads") {
    temporary_directory directory;
    fs::path path = directory.path / "node.key";
    result<key_pair> created = load_or_create_key_file(path);
    REQUIRE(created);
    CHECK(file_mode(path) == 0600);
    result<key_pair> loaded = load_or_create_key_file(path);
    REQUIRE(loaded);
    CHECK(loaded->public_key == created->public_key);
    // A bad file is reported, never silently replaced.
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    CHECK(load_or_create_key_file(path).error() == errc::key_file_mode);
    CHECK(fs::file_size(path) == 64);
}

// Internal: one BLAKE3 compression of a proof-of-work block (salt16 ‖
// inner32, zero-padded to 64 bytes; chaining value IV, counter 0, block
// length 48, flags CHUNK_START|CHUNK_END|ROOT), written once over a lane
// policy and compiled by each work_lanes_*.cpp for its instruction set.
//
// Include this only after every standard header and inside the file's target
// pragma. Everything here has internal linkage and takes raw pointers on
// purpose: an inline function with external linkage (a std::array member,
// say) compiled for AVX-512 in one file could be the copy the linker keeps
// for the portable path, and crash CPUs without AVX-512.
//
// A Lanes policy provides: `vector` (one 32-bit word per lane), `broadcast`,
// `add`, `bitwise_xor`, `rotate_right<n>` for n in 16, 12, 8, 7, `counters`
// (lane i's salt words 2 and 3 = counter_start + i) and `store`.
#pragma once

#include <cstddef>
#include <cstdint>

#define DAVE_ALWAYS_INLINE inline __attribute__((always_inline))

namespace dave::work_lanes {
namespace {

constexpr std::uint32_t blake3_iv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                                        0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
constexpr std::uint32_t flag_chunk_start = 1;
constexpr std::uint32_t flag_chunk_end = 2;
constexpr std::uint32_t flag_root = 8;
constexpr std::uint32_t work_block_length = 48;
constexpr std::uint32_t work_flags = flag_chunk_start | flag_chunk_end | flag_root;
constexpr int round_count = 7;
// Words 12..15 of the block are the zero padding after 48 bytes of input, so
// adding them is skipped at compile time.
constexpr int nonzero_message_words = 12;

struct message_schedule_table {
    std::uint8_t word[round_count][16];
};

// Round r reads message word schedule[r][i] where BLAKE3 permutes the words
// between rounds; round 0 reads them in order.
constexpr message_schedule_table make_message_schedule() {
    constexpr std::uint8_t permutation[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
    message_schedule_table table{};
    for (int i = 0; i < 16; ++i)
        table.word[0][i] = static_cast<std::uint8_t>(i);
    for (int round = 1; round < round_count; ++round)
        for (int i = 0; i < 16; ++i)
            table.word[round][i] = table.word[round - 1][permutation[i]];
    return table;
}
constexpr message_schedule_table message_schedule = make_message_schedule();

DAVE_ALWAYS_INLINE std::uint32_t load_little_endian_word(const std::uint8_t* bytes) {
    return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
           static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

DAVE_ALWAYS_INLINE std::uint32_t rotate_right_word(std::uint32_t word, int count) {
    return (word >> count) | (word << (32 - count));
}

// BLAKE3's G function on plain words, for the parts of round 0 that are the
// same in every lane.
DAVE_ALWAYS_INLINE void mix_words(std::uint32_t* state, int a, int b, int c, int d, std::uint32_t x,
                                  std::uint32_t y) {
    state[a] = state[a] + state[b] + x;
    state[d] = rotate_right_word(state[d] ^ state[a], 16);
    state[c] = state[c] + state[d];
    state[b] = rotate_right_word(state[b] ^ state[c], 12);
    state[a] = state[a] + state[b] + y;
    state[d] = rotate_right_word(state[d] ^ state[a], 8);
    state[c] = state[c] + state[d];
    state[b] = rotate_right_word(state[b] ^ state[c], 7);
}

template <class Lanes> struct lane_compression {
    using vector = typename Lanes::vector;

    vector state[16];
    vector message[nonzero_message_words];

    template <int a, int b, int c, int d, int x, int y> DAVE_ALWAYS_INLINE void mix() {
        state[a] = Lanes::add(state[a], state[b]);
        if constexpr (x < nonzero_message_words)
            state[a] = Lanes::add(state[a], message[x]);
        state[d] = Lanes::template rotate_right<16>(Lanes::bitwise_xor(state[d], state[a]));
        state[c] = Lanes::add(state[c], state[d]);
        state[b] = Lanes::template rotate_right<12>(Lanes::bitwise_xor(state[b], state[c]));
        state[a] = Lanes::add(state[a], state[b]);
        if constexpr (y < nonzero_message_words)
            state[a] = Lanes::add(state[a], message[y]);
        state[d] = Lanes::template rotate_right<8>(Lanes::bitwise_xor(state[d], state[a]));
        state[c] = Lanes::add(state[c], state[d]);
        state[b] = Lanes::template rotate_right<7>(Lanes::bitwise_xor(state[b], state[c]));
    }

    template <int round> DAVE_ALWAYS_INLINE void columns() {
        constexpr auto& word = message_schedule.word[round];
        mix<0, 4, 8, 12, word[0], word[1]>();
        mix<1, 5, 9, 13, word[2], word[3]>();
        mix<2, 6, 10, 14, word[4], word[5]>();
        mix<3, 7, 11, 15, word[6], word[7]>();
    }

    template <int round> DAVE_ALWAYS_INLINE void diagonals() {
        constexpr auto& word = message_schedule.word[round];
        mix<0, 5, 10, 15, word[8], word[9]>();
        mix<1, 6, 11, 12, word[10], word[11]>();
        mix<2, 7, 8, 13, word[12], word[13]>();
        mix<3, 4, 9, 14, word[14], word[15]>();
    }

    template <int round> DAVE_ALWAYS_INLINE void full_round() {
        columns<round>();
        diagonals<round>();
    }
};

// Hashes Lanes' lane count of blocks whose salts differ only in the counter
// at bytes 8..16 and stores word 0 of each output. Only that word is stored,
// so the compiler drops the work of the last round that cannot reach it.
template <class Lanes>
DAVE_ALWAYS_INLINE void hash_work_lanes(const std::uint8_t* base_salt, std::uint64_t counter_start,
                                        const std::uint8_t* inner, std::uint32_t* first_words) {
    std::uint32_t words[nonzero_message_words];
    words[0] = load_little_endian_word(base_salt);
    words[1] = load_little_endian_word(base_salt + 4);
    words[2] = 0; // per lane, see Lanes::counters
    words[3] = 0;
    for (int i = 0; i < 8; ++i)
        words[4 + i] = load_little_endian_word(inner + 4 * i);

    // Columns 0, 2 and 3 of round 0 read only words every lane shares, so
    // they run once on plain words; only column 1 reads the counter.
    // The state starts as: chaining value (the IV, as this is the first
    // block), IV words 0..3, block counter 0 (two words), block length, flags.
    std::uint32_t uniform[16];
    for (int i = 0; i < 8; ++i)
        uniform[i] = blake3_iv[i];
    for (int i = 0; i < 4; ++i)
        uniform[8 + i] = blake3_iv[i];
    uniform[12] = 0;
    uniform[13] = 0;
    uniform[14] = work_block_length;
    uniform[15] = work_flags;
    mix_words(uniform, 0, 4, 8, 12, words[0], words[1]);
    mix_words(uniform, 2, 6, 10, 14, words[4], words[5]);
    mix_words(uniform, 3, 7, 11, 15, words[6], words[7]);

    lane_compression<Lanes> lanes;
    for (int i = 0; i < 16; ++i)
        lanes.state[i] = Lanes::broadcast(uniform[i]);
    for (int i = 0; i < nonzero_message_words; ++i)
        lanes.message[i] = Lanes::broadcast(words[i]);
    Lanes::counters(counter_start, lanes.message[2], lanes.message[3]);

    lanes.template mix<1, 5, 9, 13, 2, 3>();
    lanes.template diagonals<0>();
    lanes.template full_round<1>();
    lanes.template full_round<2>();
    lanes.template full_round<3>();
    lanes.template full_round<4>();
    lanes.template full_round<5>();
    lanes.template full_round<6>();
    Lanes::store(first_words, Lanes::bitwise_xor(lanes.state[0], lanes.state[8]));
}

} // namespace
} // namespace dave::work_lanes

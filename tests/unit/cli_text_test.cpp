// The pure text behind the `dave` command's habits: the "did you mean"
// suggestion for a mistyped subcommand and the numeric option check.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "codec/errc_text.hpp"
#include "node/command_suggestion.hpp"
#include "node/option_number.hpp"
#include "node/progress_bar.hpp"

using namespace dave;

namespace {

const std::vector<std::string> commands = {"node",   "keygen", "put",     "get",
                                           "status", "help",   "version", "import-godave-backup"};

} // namespace

TEST_CASE("edit distance counts a swap of neighbours as one edit") {
    CHECK(edit_distance("status", "status") == 0);
    CHECK(edit_distance("stauts", "status") == 1);
    CHECK(edit_distance("stats", "status") == 1);
    CHECK(edit_distance("ptu", "put") == 1);
    CHECK(edit_distance("", "put") == 3);
    CHECK(edit_distance("put", "") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("abc", "xyz") == 3);
}

TEST_CASE("a mistyped command is matched to the closest one") {
    CHECK(closest_command("stauts", commands) == "status");
    CHECK(closest_command("statsu", commands) == "status");
    CHECK(closest_command("kegen", commands) == "keygen");
    CHECK(closest_command("keygne", commands) == "keygen");
    CHECK(closest_command("nod", commands) == "node");
    CHECK(closest_command("verison", commands) == "version");
    CHECK(closest_command("import", commands) == "import-godave-backup");
    CHECK(closest_command("import-godave-bakcup", commands) == "import-godave-backup");
}

TEST_CASE("no suggestion when nothing is close, or two are equally close") {
    CHECK(!closest_command("frobnicate", commands));
    CHECK(!closest_command("xyz", commands));
    CHECK(!closest_command("", commands));
    // "gut" is one edit from both "put" and "get".
    CHECK(!closest_command("gut", commands));
    CHECK(!closest_command("status", std::vector<std::string>{}));
}

TEST_CASE("numeric options: a number in range, or what is wrong") {
    auto ok = parse_option_number("12", 0, 64);
    CHECK(ok.value == 12);
    CHECK(ok.problem.empty());
    CHECK(parse_option_number("+7", 0, 64).value == 7);
    CHECK(parse_option_number("0", 0, 64).value == 0);
    CHECK(parse_option_number("64", 0, 64).value == 64);

    for (auto text : {"abc", "", "12abc", "1.5", " 3", "3 ", "0x10", "--", "+-3", "ten"}) {
        INFO(text);
        auto bad = parse_option_number(text, 0, 64);
        CHECK(!bad.value);
        CHECK(bad.problem == "'" + std::string(text) + "' is not a number");
    }
    CHECK(parse_option_number("65", 0, 64).problem == "must be a number from 0 to 64, not 65");
    CHECK(parse_option_number("-1", 0, 64).problem == "must be a number from 0 to 64, not -1");
    CHECK(parse_option_number("0", 1, 100000000).problem ==
          "must be a number from 1 to 100000000, not 0");
    CHECK(parse_option_number("99999999999999999999", 1, 10).problem ==
          "must be a number from 1 to 10, not 99999999999999999999");
}

TEST_CASE("the progress bar: only where asked to draw, its rate counting successes only") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    auto text_of = [&] {
        std::fflush(out);
        std::rewind(out);
        std::string text;
        for (int c; (c = std::fgetc(out)) != EOF;)
            text += static_cast<char>(c);
        return text;
    };
    {
        progress_bar hidden(40, out, false);
        for (std::uint64_t i = 1; i <= 40; ++i)
            hidden.update(i, i);
        hidden.end_line();
        CHECK(text_of().empty());
    }
    progress_bar bar(40, out, true);
    for (std::uint64_t i = 1; i <= 40; ++i)
        bar.update(i, 0); // every one refused
    bar.end_line();
    bar.end_line(); // a second end adds no empty line
    auto drawn = text_of();
    // Drawn at 1, 17, 33 and the last; the rate of nothing written is 0.
    CHECK(drawn == "\r[" + std::string(0, '#') + std::string(30, ' ') + "] 1/40  0.0/s" + "\r[" +
                       std::string(12, '#') + std::string(18, ' ') + "] 17/40  0.0/s" + "\r[" +
                       std::string(24, '#') + std::string(6, ' ') + "] 33/40  0.0/s" + "\r[" +
                       std::string(30, '#') + "] 40/40  0.0/s\n");
    CHECK(bar.rate(0) == 0.0);
    CHECK(bar.rate(40) > 0.0);
    std::fclose(out);
}

TEST_CASE("every error code has a name and a description that is not the name") {
    for (unsigned value = 0;; ++value) {
        const auto code = static_cast<errc>(value);
        if (to_string(code) == "unknown")
            break;
        INFO(to_string(code));
        CHECK(errc_named(to_string(code)) == code);
        CHECK(!describe(code).empty());
        CHECK(describe(code) != to_string(code));
        CHECK(describe(code).find('_') == std::string_view::npos);
    }
    CHECK(errc_named("backup_unusable") == errc::backup_unusable);
    CHECK(!errc_named("no such code"));
    CHECK(!errc_named("unknown"));
    CHECK(describe(errc::backup_corrupt) == "not a Dave backup");
}

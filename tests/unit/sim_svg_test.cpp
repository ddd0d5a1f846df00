// dave-sim's picture (pure, no simulation run): the SVG is well-formed XML
// (read back by a strict little parser below), has its axes, panels, series
// and shaded bands, and escapes whatever a scenario name holds.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/sim_picture.hpp"
#include "sim/sim_svg.hpp"

using namespace dave::sim;

namespace {

// A strict reader of the XML subset an SVG document uses: the prolog, nested
// elements with quoted attributes, text, and the five named entities and
// numeric references. Throws on anything that is not well-formed.
struct xml_node {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::string text; // the text directly inside, entities resolved
    std::vector<std::unique_ptr<xml_node>> children;
};

class xml_reader {
public:
    explicit xml_reader(const std::string& text) : s_(text) {}

    std::unique_ptr<xml_node> document() {
        if (s_.compare(0, 5, "<?xml") == 0) {
            auto end = s_.find("?>");
            if (end == std::string::npos)
                fail("unterminated prolog");
            i_ = end + 2;
        }
        space();
        auto root = element();
        space();
        if (i_ != s_.size())
            fail("content after the root element");
        return root;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(what + " at offset " + std::to_string(i_));
    }
    void space() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
            ++i_;
    }
    std::string name() {
        auto start = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                  s_[i_] == '-' || s_[i_] == '_' || s_[i_] == ':'))
            ++i_;
        if (i_ == start)
            fail("a name expected");
        return s_.substr(start, i_ - start);
    }
    // Character data up to `stop`, with entities resolved; a raw '<' or a
    // bare '&' is an error.
    std::string characters(char stop) {
        std::string out;
        while (i_ < s_.size() && s_[i_] != stop) {
            char c = s_[i_];
            if (c == '<')
                fail("raw '<' in character data");
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
                fail("control character");
            if (c == '&') {
                auto end = s_.find(';', i_);
                if (end == std::string::npos)
                    fail("bare '&'");
                auto entity = s_.substr(i_ + 1, end - i_ - 1);
                static const std::map<std::string, std::string> named = {
                    {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
                if (auto found = named.find(entity); found != named.end())
                    out += found->second;
                else if (entity.size() > 1 && entity[0] == '#')
                    out += '?';
                else
                    fail("unknown entity &" + entity + ";");
                i_ = end + 1;
                continue;
            }
            out += c;
            ++i_;
        }
        return out;
    }
    std::unique_ptr<xml_node> element() {
        if (i_ >= s_.size() || s_[i_] != '<')
            fail("'<' expected");
        ++i_;
        auto node = std::make_unique<xml_node>();
        node->name = name();
        for (;;) {
            space();
            if (i_ >= s_.size())
                fail("unterminated start tag");
            if (s_.compare(i_, 2, "/>") == 0) {
                i_ += 2;
                return node;
            }
            if (s_[i_] == '>') {
                ++i_;
                break;
            }
            auto attribute = name();
            space();
            if (i_ >= s_.size() || s_[i_] != '=')
                fail("'=' expected");
            ++i_;
            space();
            if (i_ >= s_.size() || s_[i_] != '"')
                fail("'\"' expected");
            ++i_;
            auto value = characters('"');
            if (i_ >= s_.size())
                fail("unterminated attribute");
            ++i_;
            if (!node->attributes.emplace(attribute, value).second)
                fail("duplicate attribute " + attribute);
        }
        for (;;) {
            node->text += characters('<');
            if (i_ >= s_.size())
                fail("unterminated element " + node->name);
            if (s_.compare(i_, 2, "</") == 0) {
                i_ += 2;
                if (name() != node->name)
                    fail("mismatched end tag for " + node->name);
                space();
                if (i_ >= s_.size() || s_[i_] != '>')
                    fail("'>' expected");
                ++i_;
                return node;
            }
            node->children.push_back(element());
        }
    }

    const std::string& s_;
    std::size_t i_ = 0;
};

std::unique_ptr<xml_node> parse_xml(const std::string& text) {
    return xml_reader(text).document();
}

void walk(const xml_node& node, const std::function<void(const xml_node&)>& visit) {
    visit(node);
    for (const auto& child : node.children)
        walk(*child, visit);
}

std::vector<const xml_node*> find_all(const xml_node& root,
                                      const std::function<bool(const xml_node&)>& match) {
    std::vector<const xml_node*> out;
    walk(root, [&](const xml_node& n) {
        if (match(n))
            out.push_back(&n);
    });
    return out;
}

bool has_class(const xml_node& n, const std::string& name) {
    auto found = n.attributes.find("class");
    if (found == n.attributes.end())
        return false;
    const std::string padded = " " + found->second + " ";
    return padded.find(" " + name + " ") != std::string::npos;
}

std::vector<const xml_node*> by_class(const xml_node& root, const std::string& name) {
    return find_all(root, [&](const xml_node& n) { return has_class(n, name); });
}

const std::string hostile = "a <b> & \"c\" 'd' \x01 caf\xC3\xA9 \xff end";

sim_report sample_report() {
    sim_report r;
    r.options.scenario = hostile;
    r.options.nodes = 300;
    r.options.seed = 7;
    r.options.sybils = 3;
    r.options.sample_every_s = 10;
    r.options.duration_s = 60;
    r.options.partitions.push_back({0.3, 10, 20});
    r.options.expect.get_success = 0.999;
    r.options.expect.replicas_p50 = 4;
    r.workload_s = 60;
    r.gets.ok = 990;
    r.gets.not_found = 10;
    r.target_gets.ok = 40;
    r.target_gets.not_found = 10;
    r.churn_at_s = {5, 12.5, 33, 51};
    for (int i = 1; i <= 6; ++i) {
        replica_sample s;
        s.t_s = 10.0 * i;
        s.entries = 100;
        s.gets = i == 1 ? 0 : 200;
        s.get_success = i == 3 ? 0.9 : 1.0;
        s.target_gets = i == 1 ? 0 : 20;
        s.target_get_success = i == 3 ? 0.5 : 1.0;
        s.closest.p50 = i == 3 ? 3 : 5;
        s.closest.min = 2;
        s.inbound_per_s.p50 = 120 + i;
        s.inbound_per_s.p90 = 150 + i;
        s.known_by.p50 = 60;
        s.known_by.p90 = 70;
        r.samples.push_back(s);
    }
    r.final_sample = r.samples.back();
    return r;
}

} // namespace

TEST_CASE("the little XML reader rejects what is not well-formed") {
    CHECK_NOTHROW(parse_xml("<a x=\"1 &amp; 2\"><b/>t &lt; u</a>"));
    CHECK_THROWS(parse_xml("<a><b></a>"));
    CHECK_THROWS(parse_xml("<a>x < y</a>"));
    CHECK_THROWS(parse_xml("<a>fish & chips</a>"));
    CHECK_THROWS(parse_xml("<a x=\"\"\"/>"));
    CHECK_THROWS(parse_xml("<a>\x01</a>"));
    CHECK_THROWS(parse_xml("<a></a><b/>"));
}

TEST_CASE("xml_escape: markup characters, bytes that are not UTF-8, control characters") {
    CHECK(xml_escape("<&\"'>") == "&lt;&amp;&quot;&apos;&gt;");
    CHECK(xml_escape("caf\xC3\xA9") == "caf\xC3\xA9");
    CHECK(xml_escape("bad \xff") == "bad \xEF\xBF\xBD");
    CHECK(xml_escape(std::string("a\0b\x1f"
                                 "c\td",
                                 7)) == "abc\td");
}

TEST_CASE("nice_ticks: steps of 1, 2 or 5 times a power of ten, covering the range") {
    CHECK(nice_ticks(0, 60, 8) == std::vector<double>{0, 10, 20, 30, 40, 50, 60});
    CHECK(nice_ticks(0, 5, 5) == std::vector<double>{0, 1, 2, 3, 4, 5});
    const auto fine = nice_ticks(0.99, 1, 5);
    REQUIRE(fine.size() >= 3);
    CHECK(fine.front() >= 0.99 - 1e-12);
    CHECK(fine.back() <= 1 + 1e-12);
    CHECK(nice_ticks(3, 3, 5) == std::vector<double>{3});
    CHECK(nice_ticks(0, std::numeric_limits<double>::infinity(), 5).empty());
}

TEST_CASE("a run's picture: valid XML, a titled panel each with axes and series, bands") {
    const auto report = sample_report();
    const auto svg = run_svg(report);
    std::unique_ptr<xml_node> root;
    REQUIRE_NOTHROW(root = parse_xml(svg));
    CHECK(root->name == "svg");
    CHECK(root->attributes.at("xmlns") == "http://www.w3.org/2000/svg");

    // The title names scenario (as it was, once unescaped: the invalid byte
    // replaced, the control character dropped), nodes, seed and the eclipsed
    // key's GETs.
    auto titles = by_class(*root, "title");
    REQUIRE(titles.size() == 1);
    const auto& title = titles[0]->text;
    CHECK(title.find("a <b> & \"c\" 'd'  caf\xC3\xA9 \xEF\xBF\xBD end") != std::string::npos);
    CHECK(title.find("300 nodes") != std::string::npos);
    CHECK(title.find("seed 7") != std::string::npos);
    CHECK(title.find("eclipsed key GETs 40/50 ok (80.00%)") != std::string::npos);
    // The raw name never reaches the document unescaped.
    CHECK(svg.find("<b>") == std::string::npos);

    auto panels = by_class(*root, "panel");
    REQUIRE(panels.size() == 3);
    CHECK(panels[0]->attributes.at("id") == "panel-get-success");
    CHECK(panels[1]->attributes.at("id") == "panel-replicas");
    CHECK(panels[2]->attributes.at("id") == "panel-datagrams");
    for (const auto* panel : panels) {
        CAPTURE(panel->attributes.at("id"));
        CHECK(by_class(*panel, "x-axis").size() == 1);
        CHECK(by_class(*panel, "y-axis").size() == 1);
        CHECK(by_class(*panel, "y-tick").size() >= 2);
        CHECK(by_class(*panel, "x-tick").size() >= 4);
        // The partition window and the churn period, shaded on every panel.
        CHECK(by_class(*panel, "partition").size() == 1);
        CHECK(by_class(*panel, "churn").size() == 1);
        CHECK(by_class(*panel, "churn-mark").size() == 4);
    }
    // GET success: all GETs and the eclipsed key; the first window had no
    // GET, so it has no point; a target line.
    auto get_series = by_class(*panels[0], "series");
    REQUIRE(get_series.size() == 2);
    auto points = [](const xml_node* line) {
        std::size_t n = 0;
        for (char c : line->attributes.at("points"))
            n += c == ',' ? 1 : 0;
        return n;
    };
    CHECK(points(get_series[0]) == 5);
    CHECK(points(get_series[1]) == 5);
    CHECK(by_class(*panels[0], "target").size() == 1);
    CHECK(by_class(*panels[1], "series").size() == 2); // p50, min
    CHECK(by_class(*panels[2], "series").size() == 4); // all p50/p90, PINGs p50/p90
    CHECK(by_class(*panels[2], "target").empty());
}

TEST_CASE("the partition band lies where the window is, on the time axis") {
    svg_chart chart;
    chart.x_min = 0;
    chart.x_max = 100;
    svg_panel panel;
    panel.id = "p";
    panel.series.push_back({"s", "#000", false, {{0, 1}, {100, 2}}});
    chart.panels.push_back(panel);
    chart.bands.push_back({25, 75, "partition", "cut"});
    chart.bands.push_back({150, 200, "partition", "outside the run"});
    auto root = parse_xml(render_svg(chart));
    auto bands = by_class(*root, "partition");
    REQUIRE(bands.size() == 1); // a band wholly outside the axis is not drawn
    auto axis = by_class(*root, "x-axis");
    REQUIRE(axis.size() == 1);
    const double x1 = std::stod(axis[0]->attributes.at("x1"));
    const double x2 = std::stod(axis[0]->attributes.at("x2"));
    const double bx = std::stod(bands[0]->attributes.at("x"));
    const double bw = std::stod(bands[0]->attributes.at("width"));
    CHECK(bx == doctest::Approx(x1 + (x2 - x1) * 0.25).epsilon(0.01));
    CHECK(bw == doctest::Approx((x2 - x1) * 0.5).epsilon(0.01));
}

TEST_CASE("a run without samples, churn or partitions still gives valid XML") {
    sim_report empty;
    empty.error = "simulation stalled & <stopped>";
    std::unique_ptr<xml_node> root;
    REQUIRE_NOTHROW(root = parse_xml(run_svg(empty)));
    CHECK(by_class(*root, "panel").size() == 3);
    CHECK(by_class(*root, "band").empty());
    CHECK(by_class(*root, "subtitle")[0]->text.find("ERROR: simulation stalled & <stopped>") !=
          std::string::npos);
    // Figures that are not numbers are left out, never written as "nan".
    auto report = sample_report();
    report.samples[2].inbound_per_s.p50 = std::numeric_limits<double>::quiet_NaN();
    const auto svg = run_svg(report);
    CHECK_NOTHROW(parse_xml(svg));
    CHECK(svg.find("nan") == std::string::npos);
}

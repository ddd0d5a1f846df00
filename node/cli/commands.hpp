// One function per `dave` subcommand; main.cpp parses the command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dave::cli {

struct node_options {
    std::string config;
    std::string log_level;
    std::string listen;             // "[host]:port", or ":port" for all addresses
    std::vector<std::string> edges; // --edge HOST:PORT, added to [node] edges
    std::string http_listen;
    bool http_given = false; // --http was given, maybe empty
    bool log_json = false;
    bool salvage_backup = false; // --salvage-backup
};
int run_node(const node_options& options);

struct keygen_options {
    std::string file = "node.key";
    bool force = false;
};
int run_keygen(const keygen_options& options);

struct put_options {
    std::string config;
    std::string key;
    std::string value;
    std::string data_key;
    int difficulty = -1;     // -1: the config's min_work
    std::uint64_t count = 0; // 0: one put of KEY
};
int run_put(const put_options& options);

struct get_options {
    std::string config;
    std::string key;
    std::string data_key;
    std::string public_key_hex;
    std::uint64_t count = 0; // 0: KEY itself; N: KEY0 .. KEY{N-1}
};
int run_get(const get_options& options);

struct status_options {
    std::string config;
    bool json = false;
};
int run_status(const status_options& options);

struct import_options {
    std::string config;
    std::string file;
};
int run_import(const import_options& options);

struct peers_options {
    std::string config;
    bool json = false;
};
int run_peers(const peers_options& options);

struct wait_peers_options {
    std::string config;
    std::uint32_t count = 1;
    std::string timeout = "10s";
};
int run_wait_peers(const wait_peers_options& options);

} // namespace dave::cli

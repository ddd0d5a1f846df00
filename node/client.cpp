#include "node/client.hpp"

#include <caf/all.hpp>

namespace dave {
namespace {

template <class T, class... Ts>
caf::expected<T> ask(caf::actor_system& system, const node_actor& node,
                     std::chrono::milliseconds timeout, Ts&&... xs) {
    caf::scoped_actor self{system};
    caf::expected<T> outcome{make_error(errc::timeout)};
    self->request(node, timeout, std::forward<Ts>(xs)...)
        .receive([&](T& value) { outcome = std::move(value); },
                 [&](caf::error& error) {
                     outcome = error == caf::sec::request_timeout ? make_error(errc::timeout)
                                                                  : std::move(error);
                 });
    return outcome;
}

} // namespace

client::client(caf::actor_system& system, node_actor node, std::chrono::milliseconds timeout)
    : system_(system), node_(std::move(node)), timeout_(timeout) {}

caf::expected<entry> client::put(const dat& value) {
    return ask<entry>(system_, node_, timeout_, put_atom_v, value);
}

caf::expected<entry> client::get(const public_key_bytes& public_key, const bytes& key) {
    return ask<entry>(system_, node_, timeout_, get_atom_v, public_key, key);
}

caf::expected<node_status> client::status() {
    return ask<node_status>(system_, node_, timeout_, status_atom_v);
}

caf::expected<std::uint32_t> client::wait_for_peers(std::uint32_t count,
                                                    std::chrono::milliseconds timeout) {
    return ask<std::uint32_t>(system_, node_, timeout, wait_peers_atom_v, count);
}

caf::expected<std::uint64_t> client::batch_write(std::vector<dat> values) {
    return ask<std::uint64_t>(system_, node_, timeout_, batch_write_atom_v, std::move(values));
}

caf::expected<std::vector<put_report>> client::put_all(std::vector<dat> values) {
    return ask<std::vector<put_report>>(system_, node_, timeout_, put_all_atom_v,
                                        std::move(values));
}

caf::expected<std::vector<peer_row>> client::peers() {
    return ask<std::vector<peer_row>>(system_, node_, timeout_, peer_list_atom_v);
}

void client::shutdown() {
    caf::scoped_actor self{system_};
    self->monitor(node_);
    self->send_exit(node_, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
}

} // namespace dave

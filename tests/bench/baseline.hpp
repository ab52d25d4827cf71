// tests/bench/baseline.hpp: the baselines the goals are measured against, a minimal blocking
// Asio ping-pong over the same framed bytes as bsonrpc: one thread per connection on each side,
// blocking reads and writes, every complete frame answered, replies to one read sent in one
// write (as bsonrpc coalesces its writes).
//   raw       the server sends each frame back untouched and the client resends the request
//             bytes it prepared: no parsing at all, the loopback limit.
//   nlohmann  each side parses every frame it receives with nlohmann::json (from_bson for the
//             BSON framing) and dumps the message it sends: the server its response, the
//             client its next request, carrying the echoed string.
#pragma once

#include "configs.hpp"
#include "echo.hpp"
#include "workloads.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace bench {

using tcp = asio::ip::tcp;

// Reads a blocking socket and cuts what arrives into frames with Framing.
template <class Framing>
class frame_reader {
 public:
  // Reads whatever the socket has (waiting for at least one byte); false at end of stream.
  // Invalidates the messages next() returned.
  bool read_some(tcp::socket& socket) {
    if (begin_ == filled_) {
      begin_ = filled_ = 0;
    } else if (filled_ == buffer_.size() && begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, filled_ - begin_);
      filled_ -= begin_;
      begin_ = 0;
    }
    if (filled_ == buffer_.size()) buffer_.resize(2 * buffer_.size());
    std::error_code ec;
    const auto free_space = asio::buffer(buffer_.data() + filled_, buffer_.size() - filled_);
    filled_ += socket.read_some(free_space, ec);
    if (ec == asio::error::eof) return false;
    if (ec) throw std::system_error(ec);
    return true;
  }

  // The next complete message read, if any.
  std::optional<std::string_view> next() {
    const std::string_view unread(buffer_.data() + begin_, filled_ - begin_);
    const auto frame = framing_.extract(unread, max_message_bytes);
    if (!frame) return std::nullopt;
    begin_ += frame->consumed;
    return frame->message(unread);
  }

 private:
  static constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;
  Framing framing_;
  std::vector<char> buffer_ = std::vector<char>(64 * 1024);
  std::size_t begin_ = 0;
  std::size_t filled_ = 0;
};

// One nlohmann parse or dump of a message in the format of Framing, framed.
template <class Framing>
struct nlohmann_format {
  static constexpr bool is_bson = std::is_same_v<Framing, bsonrpc::BsonFraming>;
  static constexpr const char* protocol_key = is_bson ? "bsonrpc" : "jsonrpc";

  static nlohmann::json parse(std::string_view message) {
    if constexpr (is_bson) return nlohmann::json::from_bson(message.begin(), message.end());
    else return nlohmann::json::parse(message.begin(), message.end());
  }

  static void dump_framed(const nlohmann::json& message, std::string& out) {
    if constexpr (is_bson) {
      const std::vector<std::uint8_t> bytes = nlohmann::json::to_bson(message);
      Framing::wrap({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, out);
    } else {
      Framing::wrap(message.dump(), out);
    }
  }
};

// The server's side: appends the answer to one request to `out`.
template <class Framing>
void answer(kind k, std::string_view request, std::string& out) {
  if (k == kind::raw) {
    Framing::wrap(request, out);
    return;
  }
  using format = nlohmann_format<Framing>;
  nlohmann::json parsed = format::parse(request);
  nlohmann::json response = nlohmann::json::object();
  response[format::protocol_key] = "2.0";
  response["result"] = std::move(parsed["params"][0]);
  response["id"] = std::move(parsed["id"]);
  format::dump_framed(response, out);
}

// The client's side: the first request, and the request that follows each response.
template <class Framing>
class request_writer {
 public:
  request_writer(kind k, const std::string& payload)
      : kind_(k), payload_(payload), raw_request_(framed_echo_request<Framing>(payload)) {}

  void first(std::string& out) {
    if (kind_ == kind::raw) out += raw_request_;
    else write(nlohmann::json(payload_), out);
  }

  void after(std::string_view response, std::string& out) {
    if (kind_ == kind::raw) {
      out += raw_request_;
      return;
    }
    nlohmann::json parsed = format::parse(response);
    nlohmann::json& result = parsed["result"];
    if (!result.is_string() || result.get_ref<const std::string&>().size() != payload_.size())
      throw std::runtime_error("baseline: wrong echo");
    write(std::move(result), out);
  }

 private:
  using format = nlohmann_format<Framing>;

  void write(nlohmann::json text, std::string& out) {
    nlohmann::json request = nlohmann::json::object();
    request[format::protocol_key] = "2.0";
    request["method"] = "echo";
    request["params"] = nlohmann::json::array();
    request["params"].push_back(std::move(text));
    request["id"] = ++id_;
    format::dump_framed(request, out);
  }

  kind kind_;
  const std::string& payload_;
  std::string raw_request_;
  std::int64_t id_ = 0;
};

// Answers every connection on its own thread; the accept loop runs in run().
template <class Framing>
class baseline_server {
 public:
  baseline_server(kind k, const tcp::endpoint& where) : kind_(k), acceptor_(io_, where) {
    accept_next();
  }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Accepts until stop(), then waits for the connections to end (their clients close them).
  void run() {
    io_.run();
    for (auto& t : connections_) t.join();
  }

  void stop() {
    asio::post(io_, [this] { acceptor_.close(); });
  }

 private:
  void accept_next() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (ec) return;
      connections_.emplace_back([this, socket = std::move(socket)]() mutable { serve(socket); });
      accept_next();
    });
  }

  void serve(tcp::socket& socket) {
    try {
      socket.set_option(tcp::no_delay(true));
      frame_reader<Framing> in;
      std::string out;
      while (in.read_some(socket)) {
        while (auto request = in.next()) answer<Framing>(kind_, *request, out);
        if (out.empty()) continue;
        asio::write(socket, asio::buffer(out));
        out.clear();
      }
    } catch (const std::exception& e) {
      std::cerr << "baseline server: " << e.what() << "\n";
    }
  }

  kind kind_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> connections_;  // only the accept loop touches it
};

// Opens `connections` connections to a baseline server; run() drives them, one thread each.
template <class Framing>
class baseline_client {
 public:
  baseline_client(kind k, const tcp::endpoint& server, std::size_t connections) : kind_(k) {
    for (std::size_t i = 0; i < connections; ++i) {
      sockets_.emplace_back(io_).connect(server);
      sockets_.back().set_option(tcp::no_delay(true));
    }
  }

  // Keeps `inflight` echo(payload) calls outstanding per connection until `stop`; returns the
  // number of calls completed.
  std::uint64_t run(const std::string& payload, std::size_t inflight, stop_rule& stop) {
    std::atomic<std::uint64_t> completed{0};
    std::mutex failure_mutex;
    std::string failure;
    auto drive = [&](tcp::socket& socket) {
      try {
        completed += run_one(socket, payload, inflight, stop);
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failure = e.what();
      }
    };
    if (sockets_.size() == 1) {
      drive(sockets_.front());
    } else {
      std::vector<std::thread> threads;
      for (auto& socket : sockets_) threads.emplace_back(drive, std::ref(socket));
      for (auto& t : threads) t.join();
    }
    if (!failure.empty()) throw std::runtime_error(failure);
    return completed;
  }

 private:
  std::uint64_t run_one(tcp::socket& socket, const std::string& payload, std::size_t inflight,
                        stop_rule& stop) {
    request_writer<Framing> requests(kind_, payload);
    frame_reader<Framing> in;
    std::string out;
    std::size_t outstanding = 0;
    std::uint64_t completed = 0;
    for (; outstanding < inflight && stop.may_issue(); ++outstanding) requests.first(out);
    for (;;) {
      if (!out.empty()) {
        asio::write(socket, asio::buffer(out));
        out.clear();
      }
      if (outstanding == 0) return completed;
      if (!in.read_some(socket)) throw std::runtime_error("baseline server hung up");
      while (auto response = in.next()) {
        --outstanding;
        ++completed;
        if (!stop.may_issue()) continue;
        requests.after(*response, out);
        ++outstanding;
      }
    }
  }

  kind kind_;
  asio::io_context io_;
  std::vector<tcp::socket> sockets_;
};

}  // namespace bench

// Benchmark (not a test): per-message costs of the layers under a call, with Google Benchmark.
//   bench_micro [--benchmark_filter=REGEX] [other Google Benchmark flags]
// The message is the request of echo(text), text being 100 bytes or 1 MiB (the argument):
//   encode, decode        the codec, between its value type and bytes
//   wrap, extract         the framing, around and out of a buffer holding one message
//   handle                the dispatcher, request bytes in, response bytes out, running
//                         echo_service (with a Context made per call, as handle(bytes, out)
//                         does, and with one reused, as a connection does)
//   nlohmann_parse, _dump nlohmann::json alone on the same JSON text, for scale
#include "echo.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace {

using bsonrpc::BsonCodec;
using bsonrpc::JsonCodec;

constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;

std::string text_of(const benchmark::State& state) {
  return std::string(static_cast<std::size_t>(state.range(0)), 'x');
}

template <class Codec>
std::string encoded_request(const std::string& text) {
  std::string out;
  Codec::encode(bench::echo_request<Codec>(text), out);
  return out;
}

void count_bytes(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iteration));
}

template <class Codec>
void encode(benchmark::State& state) {
  const auto message = bench::echo_request<Codec>(text_of(state));
  std::string out;
  for (auto _ : state) {
    out.clear();
    Codec::encode(message, out);
    benchmark::DoNotOptimize(out.data());
  }
  count_bytes(state, out.size());
}

template <class Codec>
void decode(benchmark::State& state) {
  const std::string bytes = encoded_request<Codec>(text_of(state));
  for (auto _ : state) {
    auto message = Codec::decode(bytes);
    benchmark::DoNotOptimize(message);
  }
  count_bytes(state, bytes.size());
}

template <class Framing>
void wrap(benchmark::State& state) {
  const std::string bytes = encoded_request<bench::codec_for<Framing>>(text_of(state));
  std::string out;
  for (auto _ : state) {
    out.clear();
    Framing::wrap(bytes, out);
    benchmark::DoNotOptimize(out.data());
  }
  count_bytes(state, bytes.size());
}

template <class Framing>
void extract(benchmark::State& state) {
  const std::string framed = bench::framed_echo_request<Framing>(text_of(state));
  Framing framing;  // a frame found resets its state, as on a connection
  for (auto _ : state) {
    auto frame = framing.extract(framed, max_message_bytes);
    benchmark::DoNotOptimize(frame);
  }
  count_bytes(state, framed.size());
}

template <class Codec>
void handle(benchmark::State& state) {
  const std::string request = encoded_request<Codec>(text_of(state));
  bench::echo_service echo;
  bsonrpc::dispatcher<Codec> dispatcher;
  dispatcher.add_service(echo);
  std::string out;
  for (auto _ : state) {
    out.clear();
    dispatcher.handle(request, out);
    benchmark::DoNotOptimize(out.data());
  }
  count_bytes(state, request.size());
}

template <class Codec>
void handle_reusing_context(benchmark::State& state) {
  const std::string request = encoded_request<Codec>(text_of(state));
  bench::echo_service echo;
  bsonrpc::dispatcher<Codec> dispatcher;
  dispatcher.add_service(echo);
  bsonrpc::detail::detached_context context;
  std::string out;
  for (auto _ : state) {
    out.clear();
    dispatcher.handle(request, context, out);
    benchmark::DoNotOptimize(out.data());
  }
  count_bytes(state, request.size());
}

void nlohmann_parse(benchmark::State& state) {
  const std::string text = encoded_request<JsonCodec>(text_of(state));
  for (auto _ : state) {
    auto message = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(message);
  }
  count_bytes(state, text.size());
}

void nlohmann_dump(benchmark::State& state) {
  const auto message = bench::echo_request<JsonCodec>(text_of(state));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = message.dump();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  count_bytes(state, bytes);
}

void sizes(benchmark::internal::Benchmark* b) { b->Arg(100)->Arg(1 << 20); }

BENCHMARK_TEMPLATE(encode, JsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(encode, BsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(decode, JsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(decode, BsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(wrap, bsonrpc::Rfc7464)->Apply(sizes);
BENCHMARK_TEMPLATE(wrap, bsonrpc::Netstring)->Apply(sizes);
BENCHMARK_TEMPLATE(wrap, bsonrpc::Frameless)->Apply(sizes);
BENCHMARK_TEMPLATE(wrap, bsonrpc::BsonFraming)->Apply(sizes);
BENCHMARK_TEMPLATE(extract, bsonrpc::Rfc7464)->Apply(sizes);
BENCHMARK_TEMPLATE(extract, bsonrpc::Netstring)->Apply(sizes);
BENCHMARK_TEMPLATE(extract, bsonrpc::Frameless)->Apply(sizes);
BENCHMARK_TEMPLATE(extract, bsonrpc::BsonFraming)->Apply(sizes);
BENCHMARK_TEMPLATE(handle, JsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(handle, BsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(handle_reusing_context, JsonCodec)->Apply(sizes);
BENCHMARK_TEMPLATE(handle_reusing_context, BsonCodec)->Apply(sizes);
BENCHMARK(nlohmann_parse)->Apply(sizes);
BENCHMARK(nlohmann_dump)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();

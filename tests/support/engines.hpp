// The connection engines the tests and the conformance examples use, compiled once per build.
//
// Every program that opens an Rpc instantiates its whole engine (the connection and its parts:
// reader, outbox, outgoing calls, handler runner, dispatcher). The test files, compiled in unity
// batches, generated code for the same dozen engines in each batch, and bsonrpc-server and
// bsonrpc-client each for all of them; at -O0 under ASan that code generation is most of their
// compile time. These explicit instantiation declarations tell each translation unit that the
// engines below are compiled elsewhere: in the library bsonrpc_test_engines (engines.cmake,
// engines_threads.cpp and engines_event_loop.cpp), which holds the one matching definition.
//
// engines.cmake's bsonrpc_use_test_engines() adds this header to a target's precompiled
// header, so it comes before any use of the engines, as the language requires. Engines not
// listed here, such as a custom codec's, are instantiated where they are used, as before.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

// EXT is `extern` for the declarations and empty for the definitions.
#define BSONRPC_TEST_ENGINE_PARTS(EXT, Codec, Framing, Executor)                                 \
  EXT template class bsonrpc::detail::connection<Codec, Framing, Executor>;                     \
  EXT template class bsonrpc::detail::reader<Framing,                                            \
                                             bsonrpc::detail::connection<Codec, Framing, Executor>>; \
  EXT template class bsonrpc::detail::outbox<bsonrpc::detail::connection<Codec, Framing, Executor>>; \
  EXT template class bsonrpc::detail::graceful_shutdown<                                        \
      bsonrpc::detail::connection<Codec, Framing, Executor>>;                                   \
  EXT template class bsonrpc::detail::liveness<                                                  \
      bsonrpc::detail::connection<Codec, Framing, Executor>>;                                   \
  EXT template class bsonrpc::detail::handler_runner<                                           \
      Codec, Executor, bsonrpc::detail::connection<Codec, Framing, Executor>>;

// A JSON engine also instantiates its outgoing calls and its Rpc whole. BSON's are left to
// implicit instantiation, which compiles only the members used: their batch_call() is a
// compile-time error by design (BSON-RPC has no batches).
#define BSONRPC_TEST_JSON_ENGINE(EXT, Framing, Executor)                                         \
  BSONRPC_TEST_ENGINE_PARTS(EXT, bsonrpc::JsonCodec, Framing, Executor)                        \
  EXT template class bsonrpc::detail::outgoing_calls<                                           \
      bsonrpc::JsonCodec, Framing, bsonrpc::detail::connection<bsonrpc::JsonCodec, Framing, Executor>>; \
  EXT template class bsonrpc::Rpc<bsonrpc::JsonCodec, Framing, Executor>;

#define BSONRPC_TEST_ENGINES_FOR(EXT, Executor)                                                  \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::Rfc7464, Executor)                                      \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::Netstring, Executor)                                    \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::Frameless, Executor)                                    \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::Ndjson, Executor)                                       \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::ContentLength, Executor)                                \
  BSONRPC_TEST_JSON_ENGINE(EXT, bsonrpc::AutoFraming, Executor)                                  \
  BSONRPC_TEST_ENGINE_PARTS(EXT, bsonrpc::BsonCodec, bsonrpc::BsonFraming, Executor)

extern template class bsonrpc::dispatcher<bsonrpc::JsonCodec>;
extern template class bsonrpc::dispatcher<bsonrpc::BsonCodec>;
BSONRPC_TEST_ENGINES_FOR(extern, bsonrpc::Threads)
BSONRPC_TEST_ENGINES_FOR(extern, bsonrpc::EventLoop)

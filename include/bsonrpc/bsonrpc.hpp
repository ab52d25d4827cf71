// bsonrpc/bsonrpc.hpp: the one include users need.
#pragma once

#include <bsonrpc/any_value.hpp>
#include <bsonrpc/backoff.hpp>
#include <bsonrpc/batch.hpp>
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/executor/event_loop.hpp>
#include <bsonrpc/executor/threads.hpp>
#include <bsonrpc/extended_json.hpp>
#include <bsonrpc/framing/auto.hpp>
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/content_length.hpp>
#include <bsonrpc/framing/frameless.hpp>
#include <bsonrpc/framing/ndjson.hpp>
#include <bsonrpc/framing/netstring.hpp>
#include <bsonrpc/framing/rfc7464.hpp>
#include <bsonrpc/hooks.hpp>
#include <bsonrpc/hooks/allow_methods.hpp>
#include <bsonrpc/hooks/metrics.hpp>
#include <bsonrpc/interface.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/peer_identity.hpp>
#include <bsonrpc/protocol.hpp>
#include <bsonrpc/reconnecting_client.hpp>
#include <bsonrpc/redact.hpp>
#include <bsonrpc/rpc.hpp>
#include <bsonrpc/server.hpp>
#include <bsonrpc/service.hpp>
#include <bsonrpc/stream/descriptor_pair.hpp>
#include <bsonrpc/tls.hpp>
#include <bsonrpc/value.hpp>
#include <bsonrpc/version.hpp>

#include <asio/ssl.hpp>

/// @namespace bsonrpc
/// JSON-RPC 2.0 and BSON-RPC over stream sockets: `Rpc<Codec, Framing, Executor>` and its
/// aliases `JsonRpc` and `BsonRpc`, the services and dispatcher that answer calls, codecs,
/// framings, executors, hooks and errors. Names in nested `detail` namespaces are internal.

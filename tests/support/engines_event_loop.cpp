// The definitions of the EventLoop engines that engines.hpp declares, and of the BSON
// dispatcher.
#include "engines.hpp"

template class bsonrpc::dispatcher<bsonrpc::BsonCodec>;
BSONRPC_TEST_ENGINES_FOR(, bsonrpc::EventLoop)

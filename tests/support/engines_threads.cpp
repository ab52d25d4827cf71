// The definitions of the Threads engines that engines.hpp declares, and of the JSON dispatcher.
#include "engines.hpp"

template class bsonrpc::dispatcher<bsonrpc::JsonCodec>;
BSONRPC_TEST_ENGINES_FOR(, bsonrpc::Threads)

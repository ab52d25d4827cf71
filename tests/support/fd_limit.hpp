// support/fd_limit.hpp: tests that open hundreds of sockets raise the descriptor limit first.
#pragma once

#include <sys/resource.h>

namespace bsonrpc::test {

// Raises the soft descriptor limit to the hard one; returns the limit now in force.
inline rlim_t raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace bsonrpc::test

// bsonrpc/detail/for_each.hpp: preprocessor iteration for the declaration macros.
#pragma once

#define BSONRPC_DETAIL_UNPAREN(...) __VA_ARGS__
#define BSONRPC_DETAIL_APPLY(macro, args) macro args
#define BSONRPC_DETAIL_CAT(a, b) BSONRPC_DETAIL_CAT_(a, b)
#define BSONRPC_DETAIL_CAT_(a, b) a##b

// BSONRPC_DETAIL_FOR_EACH(macro, data, x1, ..., xn): macro(data, x1) ... macro(data, xn), for
// 1 to 32 entries.
#define BSONRPC_DETAIL_FOR_EACH(macro, data, ...)                                   \
  BSONRPC_DETAIL_CAT(BSONRPC_DETAIL_FE_, BSONRPC_DETAIL_FE_COUNT(__VA_ARGS__))      \
  (macro, data, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_COUNT(...)                                                       \
  BSONRPC_DETAIL_FE_PICK(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,  \
                         19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, ~)
#define BSONRPC_DETAIL_FE_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14,  \
                               _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26,   \
                               _27, _28, _29, _30, _31, _32, n, ...)                         \
  n
#define BSONRPC_DETAIL_FE_1(m, d, x) m(d, x)
#define BSONRPC_DETAIL_FE_2(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_1(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_3(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_2(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_4(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_3(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_5(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_4(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_6(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_5(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_7(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_6(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_8(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_7(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_9(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_8(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_10(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_9(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_11(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_10(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_12(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_11(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_13(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_12(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_14(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_13(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_15(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_14(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_16(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_15(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_17(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_16(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_18(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_17(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_19(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_18(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_20(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_19(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_21(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_20(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_22(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_21(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_23(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_22(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_24(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_23(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_25(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_24(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_26(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_25(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_27(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_26(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_28(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_27(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_29(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_28(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_30(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_29(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_31(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_30(m, d, __VA_ARGS__)
#define BSONRPC_DETAIL_FE_32(m, d, x, ...) m(d, x) BSONRPC_DETAIL_FE_31(m, d, __VA_ARGS__)

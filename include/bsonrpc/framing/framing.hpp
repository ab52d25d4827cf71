// bsonrpc/framing/framing.hpp: the Framing concept shared by every framing policy.
//
// A Framing finds message boundaries in a byte stream. One object serves one connection and may
// keep scanning state between calls, so a large message arriving in pieces is scanned once.
//   std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes);
//       `buffer` holds every byte received and not yet consumed; between two calls it only grows
//       at its end, until a frame is returned (the caller then drops frame.consumed bytes from
//       its front). Returns the first complete message, or nullopt when more bytes are needed.
//       Throws framing_error for bytes that can never become a valid frame, and
//       message_too_large as soon as the message is known to exceed max_message_bytes, before
//       it has been buffered in full.
//   static void wrap(std::string_view message, std::string& out);
//       Appends `message`, framed, to `out`.
// Two optional members make large messages cheaper; a framing without them works the same:
//   static void begin_frame(std::string& out);
//   static void end_frame(std::string& out, std::size_t message_start);
//       Framing in place: begin_frame appends what goes before a message, the codec appends the
//       message, end_frame (given where the message starts) completes the frame. Saves copying
//       every outgoing message into its frame.
//   std::size_t frame_size_hint(std::string_view buffer) const;
//       After extract() returned nullopt for `buffer`: the size the frame at its front will
//       have, counted from the buffer's first byte, when its header already says so; else 0.
//       The connection then sizes its read buffer once instead of growing it step by step.
// One optional member keeps idle peers connected:
//   bool between_messages() const;
//       After extract() returned nullopt: true when the bytes it was given hold no part of a
//       message yet, only what may separate messages (frameless whitespace, NDJSON blank
//       lines). Such bytes do not start the partial_message_timeout clock.
#pragma once

#include <bsonrpc/errors.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bsonrpc {

// Where a message lies in the buffer given to extract().
struct frame {
  std::size_t offset = 0;    // first byte of the message
  std::size_t size = 0;      // bytes of the message itself, without framing
  std::size_t consumed = 0;  // bytes to drop from the front of the buffer once it is handled

  std::string_view message(std::string_view buffer) const { return buffer.substr(offset, size); }
};

// Whether the stream can go on after a message that does not decode. True unless the framing
// declares `static constexpr bool resynchronises = false;` (frameless JSON finds boundaries by
// parsing, so after bytes that do not parse it cannot trust where the next message starts).
template <class F, class = void>
struct framing_resynchronises : std::true_type {};
template <class F>
struct framing_resynchronises<F, std::void_t<decltype(F::resynchronises)>>
    : std::bool_constant<F::resynchronises> {};

template <class F, class = void>
struct is_framing : std::false_type {};

template <class F>
struct is_framing<
    F, std::void_t<decltype(std::declval<std::optional<frame>&>() = std::declval<F&>().extract(
                                std::declval<std::string_view>(), std::size_t{})),
                   decltype(F::wrap(std::declval<std::string_view>(), std::declval<std::string&>()))>>
    : std::is_default_constructible<F> {};

template <class F>
inline constexpr bool is_framing_v = is_framing<F>::value;

template <class F, class = void>
struct frames_in_place : std::false_type {};
template <class F>
struct frames_in_place<F, std::void_t<decltype(F::begin_frame(std::declval<std::string&>())),
                                      decltype(F::end_frame(std::declval<std::string&>(),
                                                            std::size_t{}))>> : std::true_type {};

template <class F, class = void>
struct has_frame_size_hint : std::false_type {};
template <class F>
struct has_frame_size_hint<F, std::void_t<decltype(std::size_t{std::declval<const F&>().frame_size_hint(
                                  std::declval<std::string_view>())})>> : std::true_type {};

template <class F, class = void>
struct has_between_messages : std::false_type {};
template <class F>
struct has_between_messages<F, std::void_t<decltype(bool{std::declval<const F&>().between_messages()})>>
    : std::true_type {};

}  // namespace bsonrpc

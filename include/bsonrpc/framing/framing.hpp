// bsonrpc/framing/framing.hpp: the Framing concept shared by every framing policy, and its checks.
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
// The writing members (wrap, begin_frame, end_frame) may instead be const member functions,
// for a framing whose output depends on what it has read (AutoFraming writes in the framing it
// detected). The connection then calls them on the object its reader uses, from any thread
// while the reader runs extract() on another: they may read only state that is safe to read
// concurrently (an atomic), and they should throw encoding_error while they cannot write.
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
// One optional member marks a framing that finds boundaries by parsing:
//   static constexpr bool resynchronises = false;
//       After a message that does not decode, the connection closes instead of reading on,
//       since where the next message starts cannot be trusted (see framing_resynchronises).
//
// framing_static_asserts<F> checks each required member, and the signature of each optional
// member that F declares, with a static_assert of its own; is_framing_v<F> is the same check as a
// bool. An optional member is found by its name, so a misspelled one (frame_size_hnt) is just
// another member of F's and goes unused, unreported. F must be a class that is not final for its
// optional members to be found and checked.
#pragma once

#include <bsonrpc/detail/detect.hpp>
#include <bsonrpc/errors.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bsonrpc {

/// Where a message lies in the buffer given to extract().
struct frame {
  std::size_t offset = 0;    ///< first byte of the message
  std::size_t size = 0;      ///< bytes of the message itself, without framing
  std::size_t consumed = 0;  ///< bytes to drop from the front of the buffer once it is handled

  /// The message's bytes within `buffer`.
  std::string_view message(std::string_view buffer) const { return buffer.substr(offset, size); }
};

namespace detail::framing_ops {
// One detector for each member of the Framing concept, naming it as the connection uses it.
template <class F>
using extract =
    decltype(std::declval<F&>().extract(std::declval<std::string_view>(), std::size_t{}));
// The writing members are called on a const object: static members or const member functions.
template <class F>
using wrap = decltype(std::declval<const F&>().wrap(std::declval<std::string_view>(),
                                                    std::declval<std::string&>()));
template <class F>
using begin_frame = decltype(std::declval<const F&>().begin_frame(std::declval<std::string&>()));
template <class F>
using end_frame =
    decltype(std::declval<const F&>().end_frame(std::declval<std::string&>(), std::size_t{}));
template <class F>
using frame_size_hint = decltype(std::size_t{
    std::declval<const F&>().frame_size_hint(std::declval<std::string_view>())});
template <class F>
using between_messages = decltype(bool{std::declval<const F&>().between_messages()});
// A static bool (checked first, so that a non-static one is not a hard error), and a constant.
template <class F>
using static_bool_resynchronises =
    std::enable_if_t<std::is_same_v<decltype(&F::resynchronises), const bool*>, F>;
template <class F>
using resynchronises = std::bool_constant<static_bool_resynchronises<F>::resynchronises>;

// Whether F declares a member of a name, whatever its kind or signature: in a class derived from
// both F and optional_member_names, the name is ambiguous exactly when F declares it too.
struct optional_member_names {
  int begin_frame, end_frame, frame_size_hint, between_messages, resynchronises;
};
template <class F>
struct name_probe : F, optional_member_names {};
template <class F>
using lacks_begin_frame = decltype(&name_probe<F>::begin_frame);
template <class F>
using lacks_end_frame = decltype(&name_probe<F>::end_frame);
template <class F>
using lacks_frame_size_hint = decltype(&name_probe<F>::frame_size_hint);
template <class F>
using lacks_between_messages = decltype(&name_probe<F>::between_messages);
template <class F>
using lacks_resynchronises = decltype(&name_probe<F>::resynchronises);

// Only a class that is not final can be derived from; of any other type, no name is found.
template <class F, template <class...> class Lacks,
          bool = std::is_class_v<F> && !std::is_final_v<F>>
struct declares : std::bool_constant<!is_detected_v<Lacks, F>> {};
template <class F, template <class...> class Lacks>
struct declares<F, Lacks, false> : std::false_type {};
}  // namespace detail::framing_ops

// Whether the stream can go on after a message that does not decode: true unless the framing
// declares `static constexpr bool resynchronises = false;`.
template <class F, class = void>
struct framing_resynchronises : std::true_type {};
template <class F>
struct framing_resynchronises<F, std::void_t<detail::framing_ops::resynchronises<F>>>
    : detail::framing_ops::resynchronises<F> {};

// Whether F frames in place: it has both begin_frame and end_frame.
template <class F>
struct frames_in_place
    : std::bool_constant<detail::is_detected_v<detail::framing_ops::begin_frame, F> &&
                         detail::is_detected_v<detail::framing_ops::end_frame, F>> {};

template <class F>
struct has_frame_size_hint : detail::is_detected<detail::framing_ops::frame_size_hint, F> {};

template <class F>
struct has_between_messages : detail::is_detected<detail::framing_ops::between_messages, F> {};

namespace detail {
// Each member of the Framing concept; an optional member is checked only when F declares it.
template <class F>
struct framing_check {
  template <template <class...> class Lacks>
  static constexpr bool declares = framing_ops::declares<F, Lacks>::value;

  static constexpr bool is_default_constructible = std::is_default_constructible_v<F>;
  static constexpr bool has_extract =
      is_detected_exact_v<std::optional<frame>, framing_ops::extract, F>;
  static constexpr bool has_wrap = is_detected_v<framing_ops::wrap, F>;

  static constexpr bool declares_begin_frame = declares<framing_ops::lacks_begin_frame>;
  static constexpr bool declares_end_frame = declares<framing_ops::lacks_end_frame>;
  static constexpr bool begin_frame_matches =
      !declares_begin_frame || is_detected_v<framing_ops::begin_frame, F>;
  static constexpr bool end_frame_matches =
      !declares_end_frame || is_detected_v<framing_ops::end_frame, F>;
  static constexpr bool frames_in_place_fully = declares_begin_frame == declares_end_frame;
  static constexpr bool frame_size_hint_matches =
      !declares<framing_ops::lacks_frame_size_hint> || has_frame_size_hint<F>::value;
  static constexpr bool between_messages_matches =
      !declares<framing_ops::lacks_between_messages> || has_between_messages<F>::value;
  static constexpr bool resynchronises_matches =
      !declares<framing_ops::lacks_resynchronises> ||
      is_detected_v<framing_ops::resynchronises, F>;

  static constexpr bool ok = is_default_constructible && has_extract && has_wrap &&
                             begin_frame_matches && end_frame_matches && frames_in_place_fully &&
                             frame_size_hint_matches && between_messages_matches &&
                             resynchronises_matches;
};
}  // namespace detail

/// Whether F models the Framing concept, with every optional member it declares well-formed.
template <class F>
struct is_framing : std::bool_constant<detail::framing_check<F>::ok> {};
/// is_framing<F>::value.
template <class F>
inline constexpr bool is_framing_v = is_framing<F>::value;

/// Instantiating framing_static_asserts<F> checks F against the Framing concept, one
/// static_assert per member, each naming the member and its signature:
///   static_assert(sizeof(framing_static_asserts<F>));
/// Each fault fails exactly one of them, and nothing else fails.
template <class F>
struct framing_static_asserts {
 private:
  using check = detail::framing_check<F>;

  static_assert(check::is_default_constructible,
                "Framing: must be default-constructible (each connection makes its own)");
  static_assert(check::has_extract,
                "Framing: missing `std::optional<frame> extract(std::string_view buffer, "
                "std::size_t max_message_bytes)`");
  static_assert(check::has_wrap,
                "Framing: missing `static void wrap(std::string_view message, std::string& out)` "
                "(or a const member function)");
  static_assert(check::begin_frame_matches,
                "Framing: `begin_frame` is declared but is not "
                "`static void begin_frame(std::string& out)` (or a const member function)");
  static_assert(check::end_frame_matches,
                "Framing: `end_frame` is declared but is not "
                "`static void end_frame(std::string& out, std::size_t message_start)` (or a const "
                "member function)");
  static_assert(check::frames_in_place_fully,
                "Framing: `begin_frame` and `end_frame` go together: declare both or neither");
  static_assert(check::frame_size_hint_matches,
                "Framing: `frame_size_hint` is declared but is not "
                "`std::size_t frame_size_hint(std::string_view buffer) const`");
  static_assert(check::between_messages_matches,
                "Framing: `between_messages` is declared but is not "
                "`bool between_messages() const`");
  static_assert(check::resynchronises_matches,
                "Framing: `resynchronises` is declared but is not "
                "`static constexpr bool resynchronises`");
};

}  // namespace bsonrpc

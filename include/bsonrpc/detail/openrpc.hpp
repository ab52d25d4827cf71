// bsonrpc/detail/openrpc.hpp: the OpenRPC document rpc.discover answers (bsonrpc/discover.hpp).
//
// A dispatcher with Options::discover keeps a method_catalog beside its method table: for each
// registration (a service, a function), a function that describes its methods from the C++
// signatures they were registered with (the only place the types are still known). The
// document is built from the catalog on each rpc.discover, so methods registered later are in
// it. Without Options::discover there is no catalog and a registration costs nothing more.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/coroutine.hpp>
#include <bsonrpc/detail/handler_entry.hpp>
#include <bsonrpc/detail/invoke.hpp>
#include <bsonrpc/discover.hpp>
#include <bsonrpc/json_schema.hpp>
#include <bsonrpc/service.hpp>
#include <bsonrpc/value.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

inline nlohmann::json content_descriptor(std::string_view name, nlohmann::json schema,
                                         bool required) {
  return {{"name", name}, {"schema", std::move(schema)}, {"required", required}};
}

// Each parameter, in order; an optional one is required unless all after it are optional too.
template <class V, class Args, std::size_t N, std::size_t... I>
nlohmann::json positional_params(const std::array<std::string_view, N>& names,
                                 schema_definitions& definitions, std::index_sequence<I...>) {
  constexpr std::array<bool, N> optional{is_optional_v<std::tuple_element_t<I, Args>>...};
  std::array<nlohmann::json, N> schemas{
      schema_of<std::tuple_element_t<I, Args>, V>(definitions)...};
  nlohmann::json params = nlohmann::json::array();
  bool rest_optional = true;
  std::array<bool, N> required{};
  for (std::size_t i = N; i-- > 0;) {
    rest_optional = rest_optional && optional[i];
    required[i] = !rest_optional;
  }
  for (std::size_t i = 0; i < N; ++i)
    params.push_back(content_descriptor(names[i], std::move(schemas[i]), required[i]));
  return params;
}

// A by-object handler's struct members as by-name params, the required ones first.
template <class V, class Object>
nlohmann::json member_params(bool all_optional, schema_definitions& definitions) {
  nlohmann::json required = nlohmann::json::array();
  nlohmann::json optional = nlohmann::json::array();
  bsonrpc_type_members(type_tag<Object>{}, [&](const char* name, auto member) {
    using M = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<Object&>().*member)>>;
    const bool is_required = !all_optional && !is_optional_v<M>;
    (is_required ? required : optional)
        .push_back(content_descriptor(name, schema_of<M, V>(definitions), is_required));
  });
  for (auto& p : optional) required.push_back(std::move(p));
  return required;
}

template <class T>
struct without_optional {
  using type = T;
};
template <class T>
struct without_optional<std::optional<T>> {
  using type = T;
};

// The method object of a handler with parameters Params (its leading Context& included) and
// result Result, given the N names it was registered with; its name is the catalog's to add.
template <class V, class Params, class Result, std::size_t N>
nlohmann::json describe_signature(const std::array<std::string_view, N>& names,
                                  schema_definitions& definitions) {
  using b = binding<Params, N>;
  using args = typename b::args;
  nlohmann::json method = nlohmann::json::object();
  if constexpr (b::by_object) {
    using whole = std::tuple_element_t<0, args>;
    using object = typename without_optional<whole>::type;
    if constexpr (has_described_members<object>::value) {
      method["params"] = member_params<V, object>(is_optional_v<whole>, definitions);
      method["paramStructure"] = "by-name";
    } else {
      method["params"] = nlohmann::json::array(
          {content_descriptor("params", schema_of<whole, V>(definitions), !is_optional_v<whole>)});
      method["paramStructure"] = "by-position";
    }
  } else {
    method["params"] =
        positional_params<V, args>(names, definitions, std::make_index_sequence<N>{});
    method["paramStructure"] = "either";
  }
  using result = typename awaitable_result<Result>::type;
  method["result"] = {{"name", "result"}, {"schema", schema_of<result, V>(definitions)}};
  return method;
}

// One method of the document, described, before it is sorted in.
struct described_method {
  bool request;
  std::string name;
  nlohmann::json method;  // params, paramStructure, result
};

// The methods a dispatcher with Options::discover has registered, and its document. Safe from
// any thread: registrations may come while rpc.discover runs.
class method_catalog {
 public:
  // Describes the methods of one registration (a whole service, or one function) into a
  // document's definitions. A service's is one pointer to its static specs: a connection's
  // catalog costs a few bytes per registration, not per method.
  using describer =
      std::function<void(std::vector<described_method>&, schema_definitions&)>;

  explicit method_catalog(discover_info info) : info_(std::move(info)) {}

  void add(describer describe) {
    std::lock_guard lock(mutex_);
    sources_.push_back(std::move(describe));
  }

  // The OpenRPC document of every method added so far, rpc.discover first, the rest by name.
  nlohmann::json document() const {
    schema_definitions definitions("#/components/schemas/");
    std::vector<described_method> listed;
    {
      std::lock_guard lock(mutex_);
      for (const auto& describe : sources_) describe(listed, definitions);
    }
    // By name, a request before a notification of the same name, which is then left out.
    std::stable_sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) {
      return a.name != b.name ? a.name < b.name : a.request > b.request;
    });
    nlohmann::json methods = nlohmann::json::array({discover_method_object()});
    const std::string* previous = nullptr;
    for (auto& m : listed) {
      if (previous && *previous == m.name) continue;
      previous = &m.name;
      m.method["name"] = m.name;
      if (!m.request) {
        m.method["result"] = {{"name", "notification"},
                              {"description", "None: a notification is never answered."},
                              {"schema", {{"not", nlohmann::json::object()}}}};
        m.method["x-notification"] = true;
      }
      methods.push_back(std::move(m.method));
    }
    nlohmann::json info = {{"title", info_.title}, {"version", info_.version}};
    if (!info_.description.empty()) info["description"] = info_.description;
    nlohmann::json doc = {
        {"openrpc", openrpc_version}, {"info", std::move(info)}, {"methods", std::move(methods)}};
    if (!definitions.schemas().empty())
      doc["components"] = {{"schemas", definitions.schemas()}};
    return doc;
  }

 private:
  // rpc.discover as the OpenRPC specification ("Service Discovery Method") words it.
  static nlohmann::json discover_method_object() {
    return {{"name", discover_method},
            {"description", "Returns an OpenRPC schema as a description of this service"},
            {"params", nlohmann::json::array()},
            {"result",
             {{"name", "OpenRPC Schema"},
              {"schema",
               {{"$ref",
                 "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json"}}}}}};
  }

  discover_info info_;
  mutable std::mutex mutex_;
  std::vector<describer> sources_;  // under mutex_
};

// The describer of a service's methods; `specs` is static (dispatcher::add_service's).
template <class V, class Specs>
method_catalog::describer service_describer(const Specs& specs) {
  return [&specs](std::vector<described_method>& out, schema_definitions& definitions) {
    std::apply(
        [&](const auto&... spec) {
          (out.push_back({spec.kind == method_kind::request, std::string(spec.name),
                          describe_signature<V, typename std::decay_t<decltype(spec)>::traits::args,
                                             typename std::decay_t<decltype(spec)>::traits::result>(
                              spec.params, definitions)}),
           ...);
        },
        specs);
  };
}

// A function's describer, its parameters named by `names`.
template <class V, class F, std::size_t N>
method_catalog::describer function_describer(method_kind kind, std::string name,
                                             const std::array<std::string, N>& names) {
  return [kind, name = std::move(name), names](std::vector<described_method>& out,
                                               schema_definitions& definitions) {
    using traits = callable_traits<F>;
    std::array<std::string_view, N> views;
    for (std::size_t i = 0; i < N; ++i) views[i] = names[i];
    out.push_back({kind == method_kind::request, name,
                   describe_signature<V, typename traits::args, typename traits::result>(
                       views, definitions)});
  };
}

// `j` as a bsonrpc::value member by member: no Extended JSON reading, so the schemas' own
// "$ref" and "$binary" keys stay keys. An unsigned integer past int64 becomes a double.
inline value plain_value(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      document d;
      for (const auto& [key, member] : j.items()) d.emplace_back(key, plain_value(member));
      return value(std::move(d));
    }
    case nlohmann::json::value_t::array: {
      array a;
      for (const auto& element : j) a.push_back(plain_value(element));
      return value(std::move(a));
    }
    case nlohmann::json::value_t::string: return value(j.get<std::string>());
    case nlohmann::json::value_t::boolean: return value(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return value(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return value(static_cast<double>(u));
      return value(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return value(j.get<double>());
    default: return value();
  }
}

// The document as the codec's value type V.
template <class V>
V document_value(const nlohmann::json& doc) {
  if constexpr (std::is_same_v<V, nlohmann::json>) return doc;
  else return value_traits<V>::from_neutral(plain_value(doc));
}

// The rpc.discover entry of a dispatcher's method table. It takes no params.
template <class V>
handler_entry<V> discover_entry(std::shared_ptr<const method_catalog> catalog) {
  handler_entry<V> e;
  e.invoke = [catalog = std::move(catalog)](Context&, const V* params, bool) {
    check_params_shape(params, std::array<std::string_view, 0>{});
    return document_value<V>(catalog->document());
  };
  return e;
}

}  // namespace bsonrpc::detail

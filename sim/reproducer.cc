#include "sim/reproducer.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace switchyard::sim {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "switchyard-reproducer";

std::string Hex(uint64_t v) { return absl::StrCat("0x", absl::Hex(v, absl::kZeroPad16)); }

absl::Status Invalid(std::string what) {
  return absl::InvalidArgumentError(absl::StrCat("not a valid reproducer: ", what));
}

// Typed field access with one-line errors naming the field. Numbers never go through here:
// nlohmann converts a JSON double to an integer type without a range check (undefined behaviour
// for 5.5e45), so every number is read by GetInteger or GetUnsigned below.
template <typename T>
absl::Status Get(const json& object, const char* key, T* out) {
  static_assert(!std::is_arithmetic_v<T>, "read numbers with GetInteger or GetUnsigned");
  auto it = object.find(key);
  if (it == object.end()) return Invalid(absl::StrCat("missing field '", key, "'"));
  try {
    *out = it->template get<T>();
  } catch (const json::exception&) {
    return Invalid(absl::StrCat("field '", key, "' has the wrong type"));
  }
  return absl::OkStatus();
}

// A string from the file as an error message may show it: escaped and cut short, so the message
// stays one line whatever the file holds.
std::string Shown(const std::string& text) {
  constexpr size_t kLongest = 40;
  std::string shown = absl::CHexEscape(text.substr(0, kLongest));
  return text.size() > kLongest ? shown + "..." : shown;
}

// Every string in a reproducer is one line of text: names, an outcome's invariant and message.
// A control character (a newline in a name, say) would break the one-line messages that echo it.
absl::Status CheckText(const std::string& text, const std::string& what) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Invalid(absl::StrCat(what, " '", Shown(text), "' contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status GetText(const json& object, const char* key, std::string* out) {
  if (absl::Status status = Get(object, key, out); !status.ok()) return status;
  return CheckText(*out, absl::StrCat("field '", key, "'"));
}

// An integer in [min, max]: a JSON integer (not a double, not out of int64's range) checked
// against the field's own range before it is converted.
absl::Status CheckInteger(const json& value, const std::string& what, int64_t min, int64_t max,
                          int64_t* out) {
  if (!value.is_number_integer()) {
    return Invalid(absl::StrCat(what, " is not an integer"));
  }
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max)) {
    return Invalid(absl::StrCat(what, " is out of range [", min, ", ", max, "]"));
  }
  if (!value.is_number_unsigned()) {
    int64_t v = value.get<int64_t>();
    if (v < min || v > max) {
      return Invalid(absl::StrCat(what, " is out of range [", min, ", ", max, "]"));
    }
  }
  *out = value.get<int64_t>();
  return absl::OkStatus();
}

absl::Status GetInteger(const json& object, const char* key, int64_t min, int64_t max,
                        int64_t* out) {
  auto it = object.find(key);
  if (it == object.end()) return Invalid(absl::StrCat("missing field '", key, "'"));
  return CheckInteger(*it, absl::StrCat("field '", key, "'"), min, max, out);
}

// A non-negative integer up to uint64's largest.
absl::Status GetUnsigned(const json& object, const char* key, uint64_t* out) {
  auto it = object.find(key);
  if (it == object.end()) return Invalid(absl::StrCat("missing field '", key, "'"));
  if (!it->is_number_unsigned()) {
    return Invalid(absl::StrCat("field '", key, "' is not a non-negative integer"));
  }
  *out = it->get<uint64_t>();
  return absl::OkStatus();
}

#define SY_RETURN_IF_ERROR(expr)       \
  do {                                 \
    absl::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

}  // namespace

std::string ReproducerToJson(const Reproducer& r) {
  json decisions = json::array();
  for (const Decision& d : r.log.decisions) decisions.push_back({d.stream, d.options, d.value});
  json doc = {
      {"format", kFormat},
      {"version", kReproducerVersion},
      {"model", r.model},
      {"model_fingerprint", r.model_fingerprint},
      {"options", r.options},
      {"bug", r.bug},
      {"strategy", r.strategy},
      {"seed", r.seed},
      {"pct_depth", r.pct_depth},
      {"granularity", r.granularity},
      {"user_file", r.user_file},
      {"outcome",
       {{"kind", r.outcome_kind},
        {"invariant", r.invariant},
        {"message", r.message},
        {"step", r.step}}},
      {"trace_hash", Hex(r.trace_hash)},
      {"streams", r.log.stream_names},
      {"decisions", decisions},
  };
  // Only when there is one: files of models without user code stay as they were.
  if (!r.user_file_fingerprint.empty()) doc["user_file_fingerprint"] = r.user_file_fingerprint;
  if (r.burst_max != 0) doc["burst_max"] = r.burst_max;
  return doc.dump(1) + "\n";
}

absl::StatusOr<Reproducer> ReproducerFromJson(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("the JSON is malformed or truncated");
  if (!doc.is_object()) return Invalid("the top level is not a JSON object");
  std::string format;
  SY_RETURN_IF_ERROR(GetText(doc, "format", &format));
  if (format != kFormat) return Invalid(absl::StrCat("format is '", Shown(format), "'"));
  int64_t version = 0;
  SY_RETURN_IF_ERROR(GetInteger(doc, "version", 0, INT32_MAX, &version));
  if (version != kReproducerVersion) {
    return absl::FailedPreconditionError(absl::StrCat("reproducer format version ", version,
                                                      " is not supported (this switchyard "
                                                      "reads version ",
                                                      kReproducerVersion, ")"));
  }
  Reproducer r;
  SY_RETURN_IF_ERROR(GetText(doc, "model", &r.model));
  SY_RETURN_IF_ERROR(GetText(doc, "model_fingerprint", &r.model_fingerprint));
  auto options = doc.find("options");
  if (options == doc.end()) return Invalid("missing field 'options'");
  if (!options->is_object()) return Invalid("field 'options' is not an object");
  for (const auto& [name, value] : options->items()) {
    SY_RETURN_IF_ERROR(CheckText(name, "option name"));
    int64_t v = 0;
    SY_RETURN_IF_ERROR(
        CheckInteger(value, absl::StrCat("option '", name, "'"), INT64_MIN, INT64_MAX, &v));
    r.options[name] = v;
  }
  SY_RETURN_IF_ERROR(GetText(doc, "bug", &r.bug));
  SY_RETURN_IF_ERROR(GetText(doc, "strategy", &r.strategy));
  SY_RETURN_IF_ERROR(GetUnsigned(doc, "seed", &r.seed));
  int64_t pct_depth = 0;
  SY_RETURN_IF_ERROR(GetInteger(doc, "pct_depth", 0, 64, &pct_depth));
  r.pct_depth = static_cast<int>(pct_depth);
  if (doc.contains("burst_max")) SY_RETURN_IF_ERROR(GetUnsigned(doc, "burst_max", &r.burst_max));
  r.granularity = "coarse";
  if (doc.contains("granularity")) SY_RETURN_IF_ERROR(GetText(doc, "granularity", &r.granularity));
  if (doc.contains("user_file")) SY_RETURN_IF_ERROR(GetText(doc, "user_file", &r.user_file));
  if (doc.contains("user_file_fingerprint")) {
    SY_RETURN_IF_ERROR(GetText(doc, "user_file_fingerprint", &r.user_file_fingerprint));
  }
  json outcome;
  SY_RETURN_IF_ERROR(Get(doc, "outcome", &outcome));
  if (!outcome.is_object()) return Invalid("field 'outcome' is not an object");
  SY_RETURN_IF_ERROR(GetText(outcome, "kind", &r.outcome_kind));
  SY_RETURN_IF_ERROR(GetText(outcome, "invariant", &r.invariant));
  SY_RETURN_IF_ERROR(GetText(outcome, "message", &r.message));
  SY_RETURN_IF_ERROR(GetUnsigned(outcome, "step", &r.step));
  std::string hash;
  SY_RETURN_IF_ERROR(GetText(doc, "trace_hash", &hash));
  if (hash.rfind("0x", 0) != 0 || !absl::SimpleHexAtoi(hash.substr(2), &r.trace_hash)) {
    return Invalid(absl::StrCat("trace_hash '", Shown(hash), "' is not a hexadecimal number"));
  }
  SY_RETURN_IF_ERROR(Get(doc, "streams", &r.log.stream_names));
  for (const std::string& name : r.log.stream_names) {
    SY_RETURN_IF_ERROR(CheckText(name, "stream name"));
  }
  if (r.log.stream_names.empty() || r.log.stream_names[0] != kScheduleStreamName) {
    return Invalid("the first stream must be 'schedule'");
  }
  json decisions;
  SY_RETURN_IF_ERROR(Get(doc, "decisions", &decisions));
  if (!decisions.is_array()) return Invalid("field 'decisions' is not an array");
  r.log.decisions.reserve(decisions.size());
  for (size_t i = 0; i < decisions.size(); ++i) {
    const json& d = decisions[i];
    bool ok = d.is_array() && d.size() == 3 && d[0].is_number_unsigned() &&
              d[1].is_number_unsigned() && d[2].is_number_unsigned();
    if (ok) {
      uint64_t stream = d[0], options = d[1], value = d[2];
      ok = stream < r.log.stream_names.size() && options >= 2 && options <= UINT32_MAX &&
           value < options;
      if (ok) {
        r.log.decisions.push_back({static_cast<StreamId>(stream), static_cast<uint32_t>(options),
                                   static_cast<uint32_t>(value)});
      }
    }
    if (!ok) {
      return Invalid(absl::StrCat("decision ", i,
                                  " is not [stream, options, value] with "
                                  "a known stream and value < options >= 2"));
    }
  }
  return r;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
  }
  bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", reason));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status WriteReproducer(const std::string& path, const Reproducer& r) {
  return WriteFileAtomically(path, ReproducerToJson(r));
}

absl::StatusOr<Reproducer> ReadReproducer(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Reproducer> r = ReproducerFromJson(*text);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat(path, ": ", r.status().message()));
  }
  return r;
}

}  // namespace switchyard::sim

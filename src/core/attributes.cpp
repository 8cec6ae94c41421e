#include "core/attributes.h"

namespace deepx {

const char* AttributeKindName(const AttributeValue& v) {
  static const char* kNames[] = {"int", "float", "string", "ints", "floats", "strings", "tensor"};
  return kNames[v.index()];
}

namespace {

template <typename T>
Result<T> GetTyped(const std::map<std::string, AttributeValue>& values, const std::string& name, T default_value,
                   const char* want) {
  auto it = values.find(name);
  if (it == values.end()) return default_value;
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return InvalidArgument("attribute '" + name + "' must be of kind " + want + ", got " +
                         AttributeKindName(it->second));
}

template <typename T>
T GetUnchecked(const std::map<std::string, AttributeValue>& values, const std::string& name, T default_value) {
  auto it = values.find(name);
  if (it == values.end()) return default_value;
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return default_value;
}

}  // namespace

Result<int64_t> Attributes::GetInt(const std::string& name, int64_t d) const {
  return GetTyped<int64_t>(values_, name, d, "int");
}
Result<float> Attributes::GetFloat(const std::string& name, float d) const {
  return GetTyped<float>(values_, name, d, "float");
}
Result<std::string> Attributes::GetString(const std::string& name, const std::string& d) const {
  return GetTyped<std::string>(values_, name, d, "string");
}
Result<std::vector<int64_t>> Attributes::GetInts(const std::string& name, std::vector<int64_t> d) const {
  return GetTyped<std::vector<int64_t>>(values_, name, std::move(d), "ints");
}
Result<std::vector<float>> Attributes::GetFloats(const std::string& name, std::vector<float> d) const {
  return GetTyped<std::vector<float>>(values_, name, std::move(d), "floats");
}
Result<Tensor> Attributes::GetTensor(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return NotFound("attribute '" + name + "' is missing");
  if (const Tensor* t = std::get_if<Tensor>(&it->second)) return *t;
  return InvalidArgument("attribute '" + name + "' must be of kind tensor, got " + AttributeKindName(it->second));
}

int64_t Attributes::Int(const std::string& name, int64_t d) const { return GetUnchecked<int64_t>(values_, name, d); }
float Attributes::Float(const std::string& name, float d) const { return GetUnchecked<float>(values_, name, d); }
std::string Attributes::String(const std::string& name, const std::string& d) const {
  return GetUnchecked<std::string>(values_, name, d);
}
std::vector<int64_t> Attributes::Ints(const std::string& name, std::vector<int64_t> d) const {
  return GetUnchecked<std::vector<int64_t>>(values_, name, std::move(d));
}
std::vector<float> Attributes::Floats(const std::string& name, std::vector<float> d) const {
  return GetUnchecked<std::vector<float>>(values_, name, std::move(d));
}

}  // namespace deepx

// Node attributes, as read from ONNX and as set by graph passes.
//
// Attribute names starting with "deepx." are internal (set by passes such as activation fusion); the ONNX loader
// rejects them in model files, so a model cannot smuggle in internal behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "deepx/status.h"
#include "deepx/tensor.h"

namespace deepx {

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>,
                                    std::vector<std::string>, Tensor>;

const char* AttributeKindName(const AttributeValue& v);  // "int", "float", "string", "ints", ...

class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttributeValue v) { values_[name] = std::move(v); }
  void erase(const std::string& name) { values_.erase(name); }
  const std::map<std::string, AttributeValue>& all() const { return values_; }

  // Typed getters: the default when absent, an INVALID_ARGUMENT error when present with another kind.
  Result<int64_t> GetInt(const std::string& name, int64_t default_value) const;
  Result<float> GetFloat(const std::string& name, float default_value) const;
  Result<std::string> GetString(const std::string& name, const std::string& default_value) const;
  Result<std::vector<int64_t>> GetInts(const std::string& name, std::vector<int64_t> default_value = {}) const;
  Result<std::vector<float>> GetFloats(const std::string& name, std::vector<float> default_value = {}) const;
  Result<Tensor> GetTensor(const std::string& name) const;

  // Unchecked getters for kernels, which run after validation: the default when absent or of another kind.
  int64_t Int(const std::string& name, int64_t default_value) const;
  float Float(const std::string& name, float default_value) const;
  std::string String(const std::string& name, const std::string& default_value) const;
  std::vector<int64_t> Ints(const std::string& name, std::vector<int64_t> default_value = {}) const;
  std::vector<float> Floats(const std::string& name, std::vector<float> default_value = {}) const;

 private:
  std::map<std::string, AttributeValue> values_;
};

}  // namespace deepx

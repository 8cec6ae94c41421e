// The reference backend: runs every node with its op's reference kernel, one node at a time, on the host.
//
// Slow on purpose; it is the oracle every optimised backend is compared with, and the fallback for ops no other
// backend supports. Intermediate tensors are freed after their last reader so peak memory stays near the largest
// live set.
#pragma once

#include <string>

#include "runtime/backend.h"

namespace deepx {

class ReferenceBackend final : public Backend {
 public:
  explicit ReferenceBackend(std::string name = "reference");
  const ProcessorInfo& info() const override { return info_; }
  Status Supports(const Graph& g, const Node& n) const override;
  Result<std::unique_ptr<Executable>> Prepare(std::shared_ptr<const Graph> graph, const Block& block) override;

 private:
  ProcessorInfo info_;
};

}  // namespace deepx

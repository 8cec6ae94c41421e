// The models a `deepx serve` process holds: those of --models DIR (named by file stem) and, with uploads allowed,
// models uploaded through the repository extension (kept in memory, at most `max_uploads` of them, least recently
// used evicted first). Uploaded bytes are keyed by their SHA-256, so the same block uploaded twice under two names
// is parsed once.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "deepx/deepx.hpp"
#include "deepx/status.h"

namespace deepx::serve {

// One served model: its Session runs one request at a time (requests for other models run in parallel).
class ServedModel {
 public:
  ServedModel(std::string name, std::shared_ptr<const Model> model, std::unique_ptr<Session> session, bool uploaded)
      : name_(std::move(name)), model_(std::move(model)), session_(std::move(session)), uploaded_(uploaded) {}

  const std::string& name() const { return name_; }
  const Model& model() const { return *model_; }
  bool uploaded() const { return uploaded_; }
  Result<std::vector<Tensor>> Run(const std::vector<std::pair<std::string, Tensor>>& inputs) {
    std::lock_guard<std::mutex> lock(mu_);
    return session_->Run(inputs);
  }

 private:
  std::string name_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Session> session_;
  bool uploaded_;
  std::mutex mu_;
};

class ModelRepository {
 public:
  ModelRepository(SessionOptions session_options, size_t max_uploads)
      : session_options_(std::move(session_options)), max_uploads_(max_uploads) {}

  // Loads every DIR/*.onnx; fails naming the first file that does not load.
  Status LoadDirectory(const std::string& dir);
  // Parses `bytes` and serves them as `name` (replacing an uploaded model of that name; a model from the
  // directory cannot be replaced).
  Status AddUpload(const std::string& name, const std::string& bytes);
  // nullptr when absent.
  std::shared_ptr<ServedModel> Find(const std::string& name);
  // NOT_FOUND when absent; FAILED_PRECONDITION for a model from the directory.
  Status Unload(const std::string& name);
  std::vector<std::string> Names() const;

  // Model names allowed in URLs and uploads: 1-128 characters of [A-Za-z0-9_.-], not starting with '.'.
  static bool ValidName(const std::string& name);

 private:
  Result<std::shared_ptr<ServedModel>> Make(const std::string& name, std::shared_ptr<const Model> model,
                                            bool uploaded);

  SessionOptions session_options_;
  size_t max_uploads_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ServedModel>> models_;
  std::list<std::string> upload_lru_;  // uploaded names, most recently used first
  // Content hash -> parsed model, for uploads still served under some name.
  std::map<std::string, std::weak_ptr<const Model>> by_hash_;
};

}  // namespace deepx::serve

#include "serve/model_repository.h"

#include <algorithm>
#include <filesystem>

#include "serve/sha256.h"

namespace deepx::serve {

bool ModelRepository::ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

Result<std::shared_ptr<ServedModel>> ModelRepository::Make(const std::string& name,
                                                           std::shared_ptr<const Model> model, bool uploaded) {
  DX_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, session_options_));
  return std::make_shared<ServedModel>(name, std::move(model), std::move(session), uploaded);
}

Status ModelRepository::LoadDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("model directory '" + dir + "' does not exist");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".onnx" && entry.is_regular_file(ec)) files.push_back(entry.path());
  if (ec) return IoError("cannot list '" + dir + "': " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    const std::string name = path.stem().string();
    if (!ValidName(name))
      return InvalidArgument("model file '" + path.string() + "': name '" + name +
                             "' is not a valid model name ([A-Za-z0-9_.-], at most 128)");
    auto model = Model::Load(path.string());
    if (!model.ok()) return model.status().WithContext("serving '" + path.string() + "'");
    auto served = Make(name, *model, /*uploaded=*/false);
    if (!served.ok()) return served.status().WithContext("serving '" + path.string() + "'");
    std::lock_guard<std::mutex> lock(mu_);
    models_[name] = *served;
  }
  return Status::Ok();
}

Status ModelRepository::AddUpload(const std::string& name, const std::string& bytes) {
  if (!ValidName(name)) return InvalidArgument("invalid model name");
  const std::string hash = Sha256Hex(bytes);
  std::shared_ptr<const Model> model;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it != models_.end() && !it->second->uploaded())
      return FailedPrecondition("model '" + name + "' is served from the model directory and cannot be replaced");
    auto h = by_hash_.find(hash);
    if (h != by_hash_.end()) model = h->second.lock();
  }
  // Parse outside the lock: other models keep serving while a large upload is validated.
  if (!model) {
    DX_ASSIGN_OR_RETURN(model, Model::LoadFromBytes(bytes.data(), bytes.size(), /*base_dir=*/""));
  }
  DX_ASSIGN_OR_RETURN(std::shared_ptr<ServedModel> served, Make(name, model, /*uploaded=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  models_[name] = served;
  by_hash_[hash] = model;
  upload_lru_.remove(name);
  upload_lru_.push_front(name);
  while (upload_lru_.size() > max_uploads_) {
    models_.erase(upload_lru_.back());
    upload_lru_.pop_back();
  }
  for (auto it = by_hash_.begin(); it != by_hash_.end();) it = it->second.expired() ? by_hash_.erase(it) : ++it;
  return Status::Ok();
}

std::shared_ptr<ServedModel> ModelRepository::Find(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return nullptr;
  if (it->second->uploaded()) {  // keep recently used blocks resident
    auto pos = std::find(upload_lru_.begin(), upload_lru_.end(), name);
    if (pos != upload_lru_.end()) upload_lru_.splice(upload_lru_.begin(), upload_lru_, pos);
  }
  return it->second;
}

Status ModelRepository::Unload(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound("model '" + name + "' is not loaded");
  if (!it->second->uploaded())
    return FailedPrecondition("model '" + name + "' is served from the model directory and cannot be unloaded");
  models_.erase(it);
  upload_lru_.remove(name);
  return Status::Ok();
}

std::vector<std::string> ModelRepository::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, m] : models_) names.push_back(name);
  return names;
}

}  // namespace deepx::serve

// LoadModelForRun: the model `run`, `bench` and `profile` execute, compressed at load when asked.
#include "input_feeds.h"

namespace deepx::cli {

Result<std::shared_ptr<const Model>> LoadModelForRun(const ModelRunArgs& args) {
  DX_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::Load(args.model));
  if (args.max_accuracy_drop < 0) return model;
  return Unimplemented("--max-accuracy-drop: run-time layer compression is not implemented yet");
}

}  // namespace deepx::cli

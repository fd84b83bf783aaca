#include "modnet/train/checkpoint.h"

#include <mutex>

#include "modnet/core/error.h"
#include "modnet/core/files.h"

namespace modnet::train {

namespace {
torch::Tensor scalar(double v) { return torch::tensor(v, torch::kDouble); }
torch::Tensor scalar(int64_t v) { return torch::tensor(v, torch::kLong); }
double read_double(torch::serialize::InputArchive& a, const char* key) {
  torch::Tensor t;
  a.read(key, t);
  return t.item<double>();
}
int64_t read_int(torch::serialize::InputArchive& a, const char* key) {
  torch::Tensor t;
  a.read(key, t);
  return t.item<int64_t>();
}
}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                     const TrainerState& state, const std::vector<torch::Tensor>& best_weights) {
  torch::serialize::OutputArchive archive, model_archive, optim_archive, best_archive;
  model.save(model_archive);
  optimizer.save(optim_archive);
  for (size_t i = 0; i < best_weights.size(); ++i) best_archive.write(std::to_string(i), best_weights[i].cpu());
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  archive.write("best", best_archive);
  archive.write("best_count", scalar(int64_t(best_weights.size())));
  archive.write("step", scalar(state.step));
  archive.write("best_val", scalar(state.best_val));
  archive.write("best_step", scalar(state.best_step));
  archive.write("bad_evals", scalar(state.bad_evals));
  archive.write("stopped_early", scalar(int64_t(state.stopped_early)));
  archive.write("seconds", scalar(state.seconds));
  archive.write("running_loss", scalar(state.running_loss));
  archive.write("running_count", scalar(state.running_count));
  archive.write("cpu_rng", torch::globalContext().defaultGenerator(torch::kCPU).get_state());
  write_atomic_with(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     TrainerState& state, std::vector<torch::Tensor>& best_weights) {
  if (!file_exists(path)) throw Error(fmt::format("checkpoint '{}' does not exist", path));
  try {
    torch::serialize::InputArchive archive, model_archive, optim_archive, best_archive;
    archive.load_from(path);
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    archive.read("best", best_archive);
    model.load(model_archive);
    optimizer.load(optim_archive);
    best_weights.clear();
    const int64_t nbest = read_int(archive, "best_count");
    for (int64_t i = 0; i < nbest; ++i) {
      torch::Tensor t;
      best_archive.read(std::to_string(i), t);
      best_weights.push_back(t);
    }
    state.step = read_int(archive, "step");
    state.best_val = read_double(archive, "best_val");
    state.best_step = read_int(archive, "best_step");
    state.bad_evals = read_int(archive, "bad_evals");
    state.stopped_early = read_int(archive, "stopped_early") != 0;
    state.seconds = read_double(archive, "seconds");
    state.running_loss = read_double(archive, "running_loss");
    state.running_count = read_int(archive, "running_count");
    torch::Tensor rng;
    archive.read("cpu_rng", rng);
    auto gen = torch::globalContext().defaultGenerator(torch::kCPU);  // a handle; copies share the state
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("checkpoint '{}' cannot be loaded into this model: {}", path, e.what_without_backtrace()));
  }
}

void save_weights(const std::string& path, const torch::nn::Module& model) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  write_atomic_with(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

void load_weights(const std::string& path, torch::nn::Module& model) {
  if (!file_exists(path)) throw Error(fmt::format("weights file '{}' does not exist", path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    model.load(archive);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("weights '{}' cannot be loaded into this model: {}", path, e.what_without_backtrace()));
  }
}

}  // namespace modnet::train

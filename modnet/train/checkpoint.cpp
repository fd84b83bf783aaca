#include "modnet/train/checkpoint.h"

#include <functional>
#include <mutex>

#include <fmt/ranges.h>

#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/torch_compat.h"

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

// Every file records the LibTorch version that wrote it: archives do not carry across versions
// (1.13 cannot read 2.x's, and optimiser states differ), and a failed load says so.
constexpr const char* kVersionKey = "torch_version";
void write_version(torch::serialize::OutputArchive& a, const std::string& written_by) {
  a.write(kVersionKey, c10::IValue(written_by.empty() ? compat::torch_version() : written_by));
}
std::string written_version(torch::serialize::InputArchive& a) {
  c10::IValue v;
  if (a.try_read(kVersionKey, v) && v.isString()) return v.toStringRef();
  return "";
}
std::string major_minor(const std::string& v) {
  const auto first = v.find('.');
  return first == std::string::npos ? v : v.substr(0, v.find('.', first + 1));
}
// The first parameter or buffer whose shape in the archive differs from the model's, as
// "parameter 'a.b' is [32, 8] in the file and [64, 8] in the model"; empty when all fit. The walk
// mirrors torch::nn::Module::save (own parameters and buffers, then one archive per child).
// Needed because Module::load replaces a tensor of another shape without a word.
std::string shape_mismatch(torch::serialize::InputArchive& archive, const torch::nn::Module& module,
                           const std::string& prefix) {
  auto check = [&](const std::string& kind, const std::string& name, const torch::Tensor& want) -> std::string {
    torch::Tensor got;
    if (!archive.try_read(name, got, kind == "buffer"))
      return fmt::format("{} '{}{}' is missing from the file", kind, prefix, name);
    if (got.sizes() != want.sizes())
      return fmt::format("{} '{}{}' is {} in the file and {} in the model", kind, prefix, name,
                         fmt::join(got.sizes(), "x"), fmt::join(want.sizes(), "x"));
    return "";
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (auto m = check("parameter", p.key(), p.value()); !m.empty()) return m;
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (auto m = check("buffer", b.key(), b.value()); !m.empty()) return m;
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub)) return fmt::format("module '{}{}' is missing from the file", prefix, child.key());
    if (auto m = shape_mismatch(sub, *child.value(), prefix + child.key() + "."); !m.empty()) return m;
  }
  return "";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
// What to add to a load failure: the version story when it may be the cause.
std::string version_hint(const std::string& written, bool readable) {
  const std::string ours = compat::torch_version();
  if (!readable)
    return fmt::format(" (this modnet is built against LibTorch {}; a file written by another LibTorch version, or "
                       "not by modnet, cannot be read)", ours);
  if (!written.empty() && major_minor(written) != major_minor(ours))
    return fmt::format(" (it was written by LibTorch {} and this modnet is built against {}: checkpoints and weights "
                       "do not carry across LibTorch versions; use a build against {} or train afresh)",
                       written, ours, written);
  return "";
}

// Reads the archive at `path` (a `what`, e.g. "checkpoint"), checks that its sub-archive
// `model_key` (or the archive itself when empty) fits `model`, and hands the archive to `load`.
// Every failure is one Error naming the file, with the version hint when it may be the cause.
void load_archive(const std::string& path, const char* what, torch::nn::Module& model, const std::string& model_key,
                  const std::function<void(torch::serialize::InputArchive&)>& load) {
  if (!file_exists(path)) throw Error(fmt::format("{} '{}' does not exist", what, path));
  bool readable = false;
  std::string written;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    readable = true;
    written = written_version(archive);
    torch::serialize::InputArchive sub;
    if (!model_key.empty()) archive.read(model_key, sub);
    if (auto m = shape_mismatch(model_key.empty() ? archive : sub, model, ""); !m.empty())
      throw Error(fmt::format("{} '{}' does not fit this model{}: {} (was the model's configuration changed?)", what,
                              path, version_hint(written, readable), m));
    load(archive);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("{} '{}' cannot be loaded into this model{}: {}", what, path,
                            version_hint(written, readable), first_line(e.what_without_backtrace())));
  }
}
}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                     const TrainerState& state, const std::vector<torch::Tensor>& best_weights,
                     const std::string& written_by) {
  torch::serialize::OutputArchive archive, model_archive, optim_archive, best_archive;
  write_version(archive, written_by);
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
  load_archive(path, "checkpoint", model, "model", [&](torch::serialize::InputArchive& archive) {
    torch::serialize::InputArchive model_archive, optim_archive, best_archive;
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
  });
}

void save_weights(const std::string& path, const torch::nn::Module& model, const std::string& written_by) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  write_version(archive, written_by);
  write_atomic_with(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

void load_weights(const std::string& path, torch::nn::Module& model) {
  load_archive(path, "weights file", model, "", [&](torch::serialize::InputArchive& archive) { model.load(archive); });
}

}  // namespace modnet::train

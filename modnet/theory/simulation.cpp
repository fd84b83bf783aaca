// Monte Carlo of the linear random-feature model (PAPER.md §2) and the figures of modnet-theory.
// docs/theory.md §6 (simulation) and §7 (figures).
#include "modnet/theory/simulation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <tuple>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "modnet/analysis/plot.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"
#include "modnet/train/metrics.h"

namespace fs = std::filesystem;

namespace modnet::theory {

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);
// Matrix entries drawn per chunk of trials (~64 MiB of float64; a factorisation needs a few times that).
constexpr int64_t kMaxEntriesPerChunk = int64_t{1} << 23;

// The minimum-norm least-squares solution X⁺Y for a batch X [t, r, p], Y [t, r, k]. X has full rank
// with probability 1, so X⁺Y = (XᵀX)⁻¹XᵀY (r > p) or Xᵀ(XXᵀ)⁻¹Y (r < p), solved by Cholesky — 5–13×
// faster than an SVD. Within 10 % of the pole r = p (where the Gram matrix, whose condition number
// is the square of X's, is badly conditioned) or if a factorisation fails: torch::linalg_pinv (SVD).
torch::Tensor min_norm_solve(const torch::Tensor& X, const torch::Tensor& Y) {
  const int64_t r = X.size(1), p = X.size(2);
  if (10 * std::abs(r - p) >= std::min(r, p)) {
    const auto Xt = X.transpose(1, 2);
    const auto G = r > p ? torch::bmm(Xt, X) : torch::bmm(X, Xt);
    const auto [L, info] = torch::linalg_cholesky_ex(G);
    if (info.max().item<int64_t>() == 0)
      return r > p ? torch::cholesky_solve(torch::bmm(Xt, Y), L) : torch::bmm(Xt, torch::cholesky_solve(Y, L));
  }
  return torch::bmm(torch::linalg_pinv(X), Y);
}

// Per-trial losses of one chunk of `t` trials; appends to `train` and `test`.
void simulate_chunk(const torch::Tensor& lambda, double tail, int64_t n, int64_t d, int64_t t, at::Generator& gen,
                    OutputModel model, std::vector<double>& train, std::vector<double>& test) {
  const int64_t p = lambda.size(0);
  const double dd = static_cast<double>(d);
  const auto sqrt_lambda = lambda.sqrt();
  torch::Tensor loss_train, loss_test;
  if (model == OutputModel::shared) {
    // N = dn equations: every (sample, output) pair has its own feature row φ_j(x) ~ N(0, Λ₁).
    const int64_t N = d * n;
    const auto X = torch::randn({t, N, p}, gen, kF64) * sqrt_lambda;        // rows ~ N(0, Λ₁)
    const auto theta = torch::randn({t, p, 1}, gen, kF64);                  // θ*₁ iid N(0, 1)
    const auto noise = torch::randn({t, N, 1}, gen, kF64) * std::sqrt(tail);  // φ₂·θ*₂ ~ N(0, Tr Λ₂)
    const auto y = torch::bmm(X, theta) + noise;
    const auto theta_hat = min_norm_solve(X, y);  // minimum-norm least squares
    // train: Σ over the N equations of the squared residual, per sample (÷ n), i.e. summed over outputs.
    loss_train = (torch::bmm(X, theta_hat) - y).pow(2).sum({1, 2}) / static_cast<double>(n);
    // test: each of the d outputs sees a fresh φ_j(x): E(φ₁·(θ*₁ − θ̂))² = Σ_i λ_i (θ*_i − θ̂_i)², plus Tr Λ₂.
    loss_test = dd * ((theta - theta_hat).squeeze(2).pow(2) * lambda).sum(1) + dd * tail;
  } else {
    // One feature row per sample, W* ∈ ℝ^{p×d}; the d columns are d separate regressions on the same X.
    const auto X = torch::randn({t, n, p}, gen, kF64) * sqrt_lambda;
    const auto W = torch::randn({t, p, d}, gen, kF64);
    const auto noise = torch::randn({t, n, d}, gen, kF64) * std::sqrt(tail);
    const auto Y = torch::bmm(X, W) + noise;
    const auto W_hat = min_norm_solve(X, Y);
    loss_train = (torch::bmm(X, W_hat) - Y).pow(2).sum({1, 2}) / static_cast<double>(n);
    // test: Σ_i λ_i ‖W*_i − Ŵ_i‖² + d·Tr Λ₂ (a fresh φ(x) is shared by the outputs).
    loss_test = ((W - W_hat).pow(2).sum(2) * lambda).sum(1) + dd * tail;
  }
  const auto tr = loss_train.contiguous();
  const auto te = loss_test.contiguous();
  train.insert(train.end(), tr.data_ptr<double>(), tr.data_ptr<double>() + t);
  test.insert(test.end(), te.data_ptr<double>(), te.data_ptr<double>() + t);
}

// Mean and standard error (sample std / √count) of a list of per-trial values.
std::pair<double, double> mean_and_error(const std::vector<double>& v) {
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  if (v.size() < 2) return {mean, std::numeric_limits<double>::quiet_NaN()};
  double ss = 0;
  for (const double x : v) ss += (x - mean) * (x - mean);
  const double var = ss / static_cast<double>(v.size() - 1);
  return {mean, std::sqrt(var / static_cast<double>(v.size()))};
}

}  // namespace

MonteCarloLoss simulate_features(const torch::Tensor& head_eigenvalues, double tail_trace, int64_t n, int64_t d,
                                 int64_t trials, uint64_t seed, OutputModel model) {
  MODNET_CHECK(head_eigenvalues.defined() && head_eigenvalues.dim() == 1 && head_eigenvalues.size(0) >= 1,
               "theory simulate: head eigenvalues must be a 1-D tensor of length p >= 1, got {}",
               head_eigenvalues.defined() ? fmt::format("{} dimensions, {} entries", head_eigenvalues.dim(),
                                                        head_eigenvalues.numel())
                                          : std::string("an undefined tensor"));
  const auto lambda = head_eigenvalues.to(torch::kCPU, torch::kFloat64).contiguous();
  MODNET_CHECK(lambda.min().item<double>() >= 0 && torch::isfinite(lambda).all().item<bool>(),
               "theory simulate: head eigenvalues must be finite and >= 0");
  MODNET_CHECK(std::isfinite(tail_trace) && tail_trace >= 0, "theory simulate: Tr Λ₂ must be finite and >= 0, got {}",
               tail_trace);
  MODNET_CHECK(n >= 1 && d >= 1 && trials >= 1,
               "theory simulate: n, d and trials must be >= 1, got n = {}, d = {}, trials = {}", n, d, trials);
  const int64_t p = lambda.size(0);
  const int64_t rows = model == OutputModel::shared ? d * n : n;
  const int64_t per_trial = rows * std::max(p, d);
  const int64_t chunk = std::max<int64_t>(1, kMaxEntriesPerChunk / per_trial);
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<double> train, test;
  train.reserve(static_cast<size_t>(trials));
  test.reserve(static_cast<size_t>(trials));
  for (int64_t done = 0; done < trials; done += chunk)
    simulate_chunk(lambda, tail_trace, n, d, std::min(chunk, trials - done), gen, model, train, test);
  MonteCarloLoss out;
  out.trials = trials;
  std::tie(out.mean.train, out.standard_error.train) = mean_and_error(train);
  std::tie(out.mean.test, out.standard_error.test) = mean_and_error(test);
  return out;
}

LossPrediction simulate(const Spectrum& spectrum, int64_t n, int64_t p, int64_t d, int64_t trials, uint64_t seed,
                        OutputModel model) {
  spectrum.validate();
  MODNET_CHECK(p >= 1, "theory simulate: p (kept features) must be >= 1, got {}", p);
  // Kept: λ_1…λ_p (spectrum.h); unseen: Tr Λ₂(p) = c·(p+1)^(−α), drawn as noise (exact in expectation).
  return simulate_features(spectrum.eigenvalues(p), spectrum.tail(static_cast<double>(p)), n, d, trials, seed, model)
      .mean;
}

LossPrediction simulate_modular(const Spectrum& module_spectrum, int64_t k, int64_t n, int64_t p, int64_t d,
                                int64_t trials, uint64_t seed) {
  module_spectrum.validate();
  MODNET_CHECK(k >= 1 && p >= k && p % k == 0,
               "theory simulate_modular: p (total parameters) must be a positive multiple of k (modules), got p = {}, "
               "k = {}",
               p, k);
  // Each module: its first p/k eigenvalues scaled to trace c/k; the k modules' features are independent,
  // so the kept covariance is block-diagonal (order of the blocks is irrelevant) and the tails add up.
  // (Built from Spectrum directly, not from modular_tail, so that the check of predict_modular is independent.)
  const double kk = static_cast<double>(k);
  const Spectrum module{module_spectrum.c / kk, module_spectrum.omega, module_spectrum.m};
  const auto head = module.eigenvalues(p / k).repeat({k});
  const double tail = kk * module.tail(static_cast<double>(p / k));
  return simulate_features(head, tail, n, d, trials, seed).mean;
}

// ---- Figures -------------------------------------------------------------------------------------

TheoryFigureOptions load_figure_options(const std::optional<std::string>& config_file,
                                        const std::vector<std::string>& overrides) {
  auto doc = config_file ? config::load_file(*config_file) : config::load_string("", "<defaults>");
  for (const auto& o : overrides) config::apply_override(doc, o);
  return config::read<TheoryFigureOptions>(doc);
}

std::string list_argument_yaml(const std::string& text) {
  if (text.empty() || text.front() == '[') return text;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    int64_t lo = 0, hi = 0;
    try {
      size_t used_lo = 0, used_hi = 0;
      lo = std::stoll(text.substr(0, colon), &used_lo);
      hi = std::stoll(text.substr(colon + 1), &used_hi);
      if (used_lo != colon || used_hi != text.size() - colon - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error(fmt::format("list '{}': a range must look like LO:HI with integers", text));
    }
    MODNET_CHECK(lo <= hi && hi - lo <= 10000, "list '{}': a range LO:HI needs LO <= HI (and at most 10001 values)",
                 text);
    std::string out = "[";
    for (int64_t v = lo; v <= hi; ++v) out += (v > lo ? ", " : "") + std::to_string(v);
    return out + "]";
  }
  return "[" + text + "]";
}

std::vector<double> log_grid(double lo, double hi, int64_t count) {
  MODNET_CHECK(lo > 0 && hi > lo && count >= 2, "theory log_grid: need 0 < lo < hi and count >= 2, got {}, {}, {}",
               lo, hi, count);
  std::vector<double> out(static_cast<size_t>(count));
  const double a = std::log(lo), b = std::log(hi);
  for (int64_t i = 0; i < count; ++i)
    out[static_cast<size_t>(i)] = std::exp(a + (b - a) * static_cast<double>(i) / static_cast<double>(count - 1));
  out.front() = lo;
  out.back() = hi;
  return out;
}

namespace {

// The authors' n*(m) curves read at their ends (PAPER.md §2 [F]: "n from 102…71806 at m = 2 to
// 746…338150 at m = 9"), paired with the p of the lowest and highest curve (docs/theory.md §5).
struct Digitised {
  double p, m, n;
};
const Digitised kDigitisedSampleComplexity[] = {{87, 2, 102}, {87, 9, 746}, {72594, 2, 71806}, {72594, 9, 338150}};

std::string fmt_num(double v) { return train::number(v); }

std::string csv_join(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
  return line + "\n";
}

// A grid for a sweep through a pole at `pole`: log-spaced points plus a few just beside the pole, so
// that the spike is drawn; points within `dead` of the pole (where |dn − p| ≤ 1 and the test loss is
// +inf) are left out, so that neither the CSV nor a log axis gets them.
std::vector<double> sweep_grid(const TheoryFigureOptions& o, double pole, double dead) {
  auto grid = log_grid(o.sweep_min, o.sweep_max, o.sweep_points);
  for (const double off : {-50.0, -20.0, -10.0, -5.0, -3.0, -2.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0}) {
    const double x = pole + off * dead;
    if (x >= o.sweep_min && x <= o.sweep_max) grid.push_back(x);
  }
  grid.erase(std::remove_if(grid.begin(), grid.end(), [&](double x) { return std::abs(x - pole) <= dead; }),
             grid.end());
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  return grid;
}

std::string m_label(double m) { return fmt::format("m = {}", m); }

// "87, 213, …, 72594 (bottom to top)" for a figure title.
std::string p_list_label(std::vector<double> ps) {
  std::sort(ps.begin(), ps.end());
  std::string out;
  for (size_t i = 0; i < ps.size(); ++i) out += (i ? ", " : "") + fmt::format("{}", ps[i]);
  return out + (ps.size() > 1 ? " (bottom to top)" : "");
}

class FigureWriter {
 public:
  explicit FigureWriter(std::string dir) : dir_(std::move(dir)) {}
  void csv(const std::string& name, const std::vector<std::string>& header,
           const std::vector<std::vector<std::string>>& rows) {
    std::string text = csv_join(header);
    for (const auto& r : rows) text += csv_join(r);
    const std::string path = (fs::path(dir_) / name).string();
    write_file_atomic(path, text);
    written_.push_back(path);
  }
  void png(const std::string& name, const std::vector<analysis::Panel>& panels, int width = 0, int height = 0) {
    const std::string path = (fs::path(dir_) / name).string();
    auto gp = fs::path(path).replace_extension(".gp").string();
    written_.push_back(gp);
    if (analysis::write_png(path, panels, 0, width, height)) written_.push_back(path);
  }
  void text(const std::string& name, const std::string& content) {
    const std::string path = (fs::path(dir_) / name).string();
    write_file_atomic(path, content);
    written_.push_back(path);
  }
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::string dir_;
  std::vector<std::string> written_;
};

// One train or test series of a sweep: x → loss.
analysis::Series series(const std::string& title, const std::vector<double>& x, const std::vector<LossPrediction>& y,
                        bool test, bool dashed = false, const std::string& style = "lines") {
  analysis::Series s;
  s.title = title;
  s.x = x;
  for (const auto& l : y) s.y.push_back(test ? l.test : l.train);
  s.dashed = dashed;
  s.style = style;
  return s;
}

// Two panels (test, train) of the same x with the same series titles, so colours match.
// The train loss is bounded (0 … d·c) and exactly 0 past the interpolation threshold, so its panel has
// a linear y axis unless `train_logy`.
std::vector<analysis::Panel> test_train_panels(const std::string& what, const std::string& xlabel, bool logx,
                                               bool logy, bool train_logy = false) {
  analysis::Panel test, train;
  test.title = "Test loss " + what;
  train.title = "Train loss " + what;
  test.xlabel = train.xlabel = xlabel;
  test.ylabel = "test loss (predicted)";
  train.ylabel = "train loss (predicted)";
  test.logx = train.logx = logx;
  test.logy = logy;
  train.logy = train_logy;
  train.legend = false;  // same series in the same order, so the colours are the test panel's legend
  return {test, train};
}

// plot.h puts the legend at the top right, where curves that rise to the right run into it: an
// invisible (white, tiny, untitled) point above the data makes gnuplot's autoscale leave headroom
// for `fraction` more of the y range (of its log on a log axis).
void add_headroom(analysis::Panel& panel, double fraction) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, x = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : panel.series)
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double y = s.y[i];
      if (!std::isfinite(y) || !std::isfinite(s.x[i]) || (panel.logy && y <= 0) || (panel.logx && s.x[i] <= 0)) continue;
      const double v = panel.logy ? std::log10(y) : y;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (std::isnan(x)) x = s.x[i];
    }
  if (!(hi >= lo)) return;
  const double top = hi + fraction * std::max(hi - lo, panel.logy ? 1.0 : std::abs(hi) + 1e-12);
  analysis::Series ghost;
  ghost.x = {x};
  ghost.y = {panel.logy ? std::pow(10.0, top) : top};
  ghost.style = "points";
  ghost.color = "#ffffff";
  ghost.width = 0.01;
  panel.series.push_back(ghost);
}

Spectrum spectrum_of(const TheoryFigureOptions& o, double m) { return Spectrum{o.c, o.omega, m}; }

}  // namespace

std::vector<std::string> write_theory_figures(const TheoryFigureOptions& o, const std::string& dir) {
  MODNET_CHECK(o.sweep_min > 0 && o.sweep_min < o.sweep_max && o.sweep_points >= 2 && !o.m.empty(),
               "modnet-theory: bad sweep options (sweep_min {}, sweep_max {}, sweep_points {}, {} m values)",
               o.sweep_min, o.sweep_max, o.sweep_points, o.m.size());
  spectrum_of(o, o.m.front()).validate();
  std::error_code ec;
  fs::create_directories(dir, ec);
  MODNET_CHECK(!ec && fs::is_directory(dir), "modnet-theory: cannot create the output directory '{}': {}", dir,
               ec.message());
  FigureWriter out(dir);
  const double N = static_cast<double>(o.d) * o.n;  // equations of the p-sweep: the pole is at p = dn
  const std::string d_note = o.d == 1 ? "" : fmt::format(", d = {}", o.d);

  // (a) p-sweep at fixed n, one curve per m: double descent with its pole at p = dn.
  {
    const auto ps = sweep_grid(o, N, 1.0);
    auto panels = test_train_panels(fmt::format("vs p (n = {}{})", o.n, d_note), "p (parameters)", true, true);
    std::vector<std::vector<std::string>> rows;
    for (const double m : o.m) {
      std::vector<LossPrediction> y;
      for (const double p : ps) {
        y.push_back(predict(spectrum_of(o, m), o.n, p, o.d));
        rows.push_back({fmt_num(m), fmt_num(o.n), fmt_num(p), std::to_string(o.d), fmt_num(y.back().train),
                        fmt_num(y.back().test)});
      }
      panels[0].series.push_back(series(m_label(m), ps, y, true));
      panels[1].series.push_back(series(m_label(m), ps, y, false));
    }
    out.csv("p_sweep.csv", {"m", "n", "p", "d", "train", "test"}, rows);
    if (o.simulate) {
      // Monte Carlo points of the model itself (simulate) for one m, with the prediction beside them.
      std::vector<std::vector<std::string>> sim_rows;
      analysis::Series sim_test, sim_train;
      sim_test.title = sim_train.title = fmt::format("Monte Carlo, m = {} ({} trials)", o.simulate_m, o.simulate_trials);
      sim_test.style = sim_train.style = "points";
      sim_test.color = sim_train.color = "#000000";
      sim_test.width = sim_train.width = 4;
      const auto spec = spectrum_of(o, o.simulate_m);
      for (const double p : o.simulate_p) {
        const auto pi = static_cast<int64_t>(p);
        const auto mc = simulate_features(spec.eigenvalues(pi), spec.tail(p), static_cast<int64_t>(o.n), o.d,
                                          o.simulate_trials, static_cast<uint64_t>(o.seed) + static_cast<uint64_t>(pi));
        const auto pred = predict(spec, o.n, p, o.d);
        log::info("modnet-theory: Monte Carlo m = {}, n = {}, p = {}: train {:.4g} ± {:.2g} (predicted {:.4g}), "
                  "test {:.4g} ± {:.2g} (predicted {:.4g})",
                  o.simulate_m, o.n, pi, mc.mean.train, mc.standard_error.train, pred.train, mc.mean.test,
                  mc.standard_error.test, pred.test);
        sim_rows.push_back({fmt_num(o.simulate_m), fmt_num(o.n), fmt_num(p), std::to_string(o.d),
                            std::to_string(o.simulate_trials), fmt_num(mc.mean.train), fmt_num(mc.standard_error.train),
                            fmt_num(mc.mean.test), fmt_num(mc.standard_error.test), fmt_num(pred.train),
                            fmt_num(pred.test)});
        sim_test.x.push_back(p);
        sim_test.y.push_back(mc.mean.test);
        sim_train.x.push_back(p);
        sim_train.y.push_back(mc.mean.train);
      }
      out.csv("p_sweep_simulated.csv",
              {"m", "n", "p", "d", "trials", "train", "train_se", "test", "test_se", "predicted_train",
               "predicted_test"},
              sim_rows);
      panels[0].series.push_back(sim_test);
      panels[1].series.push_back(sim_train);
    }
    out.png("p_sweep.png", panels);
  }

  // (b) n-sweep at fixed p, one curve per m: the pole at dn = p, train rising to Tr Λ₂ from 0.
  {
    const auto ns = sweep_grid(o, o.p / static_cast<double>(o.d), 1.0 / static_cast<double>(o.d));
    auto panels = test_train_panels(fmt::format("vs n (p = {}{})", o.p, d_note), "n (samples)", true, true);
    std::vector<std::vector<std::string>> rows;
    for (const double m : o.m) {
      std::vector<LossPrediction> y;
      for (const double n : ns) {
        y.push_back(predict(spectrum_of(o, m), n, o.p, o.d));
        rows.push_back({fmt_num(m), fmt_num(n), fmt_num(o.p), std::to_string(o.d), fmt_num(y.back().train),
                        fmt_num(y.back().test)});
      }
      panels[0].series.push_back(series(m_label(m), ns, y, true));
      panels[1].series.push_back(series(m_label(m), ns, y, false));
    }
    out.csv("n_sweep.csv", {"m", "n", "p", "d", "train", "test"}, rows);
    out.png("n_sweep.png", panels);
  }

  const double m_lo = *std::min_element(o.m.begin(), o.m.end());
  const double m_hi = *std::max_element(o.m.begin(), o.m.end());
  std::vector<double> ms;  // a fine grid over [min m, max m] for the curves in m
  if (m_hi > m_lo)
    for (int i = 0; i <= 140; ++i) ms.push_back(m_lo + (m_hi - m_lo) * i / 140.0);
  else
    ms = {m_lo};

  // (c) m-sweep at fixed n, one curve per p: the loss grows with m, sublinearly.
  {
    auto panels = test_train_panels(fmt::format("vs m (n = {}{})", o.n, d_note), "m (intrinsic dimension)", false, false);
    std::vector<std::vector<std::string>> rows;
    for (const double p : o.m_sweep_p) {
      std::vector<LossPrediction> y;
      for (const double m : ms) {
        y.push_back(predict(spectrum_of(o, m), o.n, p, o.d));
        rows.push_back({fmt_num(m), fmt_num(o.n), fmt_num(p), std::to_string(o.d), fmt_num(y.back().train),
                        fmt_num(y.back().test)});
      }
      const std::string title = fmt::format("p = {}{}", p, p < N ? "" : " (overparam.)");
      panels[0].series.push_back(series(title, ms, y, true));
      panels[1].series.push_back(series(title, ms, y, false));
    }
    add_headroom(panels[0], 0.45);
    out.csv("m_sweep.csv", {"m", "n", "p", "d", "train", "test"}, rows);
    out.png("m_sweep.png", panels);
  }

  // (d) k-sweep at fixed n and total p: modular prediction (bottleneck b per module) against a
  // monolithic model of the same task, whose intrinsic dimension is then m = k·b [D, docs/theory.md §4].
  {
    auto panels = test_train_panels(fmt::format("vs k (n = {}, p = {} in all{})", o.n, o.k_sweep_p, d_note),
                                    "k (modules)", false, true);
    panels[0].ylabel = "test loss (predicted; log)";
    std::vector<std::vector<std::string>> rows;
    std::vector<double> ks;
    for (const int64_t k : o.k) ks.push_back(static_cast<double>(k));
    for (const double b : o.module_b) {
      std::vector<LossPrediction> modular, mono;
      for (const int64_t k : o.k) {
        modular.push_back(predict_modular(spectrum_of(o, b), k, o.n, o.k_sweep_p, o.d));
        mono.push_back(predict(spectrum_of(o, static_cast<double>(k) * b), o.n, o.k_sweep_p, o.d));
        rows.push_back({"modular", std::to_string(k), fmt_num(b), fmt_num(b), fmt_num(o.n), fmt_num(o.k_sweep_p),
                        std::to_string(o.d), fmt_num(modular.back().train), fmt_num(modular.back().test)});
        rows.push_back({"monolithic", std::to_string(k), fmt_num(b), fmt_num(static_cast<double>(k) * b),
                        fmt_num(o.n), fmt_num(o.k_sweep_p), std::to_string(o.d), fmt_num(mono.back().train),
                        fmt_num(mono.back().test)});
      }
      const std::string mod_title = fmt::format("modular, b = {}", b);
      const std::string mono_title = fmt::format("monolithic, m = k*{}", b);
      for (int which = 0; which < 2; ++which) {
        const bool test = which == 0;
        panels[which].series.push_back(series(mod_title, ks, modular, test, false, "linespoints"));
        panels[which].series.push_back(series(mono_title, ks, mono, test, true, "linespoints"));
      }
    }
    add_headroom(panels[0], 0.3);
    out.csv("k_sweep.csv", {"model", "k", "b", "m", "n", "p", "d", "train", "test"}, rows);
    out.png("k_sweep.png", panels);
  }

  // (e) n*(m) for a target loss L*, one curve per p (PAPER.md §2; the authors' theoretical_m_vs_n.png).
  {
    const double L = o.resolved_target_loss();
    analysis::Panel panel;
    panel.title = fmt::format("Samples n* for test loss L* = {:.4g} (c/L* = {:.3g}, Omega = {})", L, o.c / L, o.omega);
    panel.xlabel = "m (intrinsic dimension);   one curve per p = " + p_list_label(o.sample_p);
    panel.ylabel = "n* (samples)";
    panel.logy = true;
    std::vector<std::vector<std::string>> rows;
    for (const double p : o.sample_p) {
      analysis::Series s;  // untitled, as in the authors' figure: the legend would cover the curves
      s.dashed = true;
      for (const double m : ms) {
        s.x.push_back(m);
        s.y.push_back(sample_complexity(p, L, o.c, o.omega, m));
      }
      for (const double m : o.m)
        rows.push_back({fmt_num(p), fmt_num(m), fmt_num(L), fmt_num(sample_complexity(p, L, o.c, o.omega, m))});
      panel.series.push_back(s);
    }
    analysis::Series dig;
    dig.title = "authors' curves, digitised ends";
    dig.style = "points";
    dig.color = "#000000";
    dig.width = 4;
    for (const auto& g : kDigitisedSampleComplexity)
      if (std::find(o.sample_p.begin(), o.sample_p.end(), g.p) != o.sample_p.end()) {
        dig.x.push_back(g.m);
        dig.y.push_back(g.n);
      }
    if (!dig.x.empty()) panel.series.push_back(dig);
    panel.legend = true;
    out.csv("sample_complexity.csv", {"p", "m", "target_loss", "n_star"}, rows);
    out.png("sample_complexity.png", {panel}, 820, 560);
  }

  // summary.json: the numbers PAPER.md §2 quotes, recomputed with these options.
  {
    train::Json summary, spectrum, checks, nstar;
    spectrum.set("c", o.c).set("omega", o.omega).set("d", o.d);
    summary.set("spectrum", spectrum);
    // "at p = 100 train 0.85 / test 1.05 for m = 7 (0.16 / 0.19 for m = 2, 0.96 / 1.18 for m = 9)" (PAPER.md §2, n = 1000)
    const struct {
      double m, train, test;
    } quoted[] = {{2, 0.16, 0.19}, {7, 0.85, 1.05}, {9, 0.96, 1.18}};
    for (const auto& q : quoted) {
      const auto l = predict(spectrum_of(o, q.m), 1000, 100, o.d);
      train::Json j;
      j.set("train", l.train).set("test", l.test).set("paper_train", q.train).set("paper_test", q.test);
      checks.set(fmt::format("n1000_p100_m{}", q.m), j);
    }
    const auto large_p = predict(spectrum_of(o, 7), 1000, 1e5, o.d);
    checks.set("n1000_p1e5_m7_test", large_p.test);
    summary.set("paper_section2_checks", checks);
    const double L = o.resolved_target_loss();
    for (const auto& g : kDigitisedSampleComplexity) {
      const double v = sample_complexity(g.p, L, o.c, o.omega, g.m);
      train::Json j;
      j.set("formula", v).set("digitised", g.n).set("relative_difference", (v - g.n) / g.n);
      nstar.set(fmt::format("p{}_m{}", g.p, g.m), j);
    }
    nstar.set("target_loss", L);
    summary.set("sample_complexity", nstar);
    out.text("summary.json", summary.dump());
  }
  out.text("config.yaml", config::to_yaml(config::write(o)) + "\n");
  return out.written();
}

}  // namespace modnet::theory

#include "modnet/analysis/theory_figures.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "modnet/analysis/plot.h"
#include "modnet/core/csv.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/json.h"
#include "modnet/core/log.h"
#include "modnet/theory/simulation.h"

namespace fs = std::filesystem;

namespace modnet::analysis {

using theory::LossPrediction;
using theory::Spectrum;
using theory::log_grid;
using theory::predict;
using theory::predict_modular;
using theory::sample_complexity;
using theory::simulate_features;

namespace {

// The authors' n*(m) curves read at their ends (PAPER.md §2 [F]: "n from 102…71806 at m = 2 to
// 746…338150 at m = 9"), paired with the p of the lowest and highest curve (docs/theory.md §5).
struct Digitised {
  double p, m, n;
};
const Digitised kDigitisedSampleComplexity[] = {{87, 2, 102}, {87, 9, 746}, {72594, 2, 71806}, {72594, 9, 338150}};

std::string fmt_num(double v) { return number(v); }

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
  void png(const std::string& name, const std::vector<Panel>& panels, int width = 0, int height = 0) {
    const std::string path = (fs::path(dir_) / name).string();
    auto gp = fs::path(path).replace_extension(".gp").string();
    written_.push_back(gp);
    if (write_png(path, panels, 0, width, height)) written_.push_back(path);
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
Series series(const std::string& title, const std::vector<double>& x, const std::vector<LossPrediction>& y,
                        bool test, bool dashed = false, const std::string& style = "lines") {
  Series s;
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
std::vector<Panel> test_train_panels(const std::string& what, const std::string& xlabel, bool logx,
                                               bool logy, bool train_logy = false) {
  Panel test, train;
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
void add_headroom(Panel& panel, double fraction) {
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
  Series ghost;
  ghost.x = {x};
  ghost.y = {panel.logy ? std::pow(10.0, top) : top};
  ghost.style = "points";
  ghost.color = "#ffffff";
  ghost.width = 0.01;
  panel.series.push_back(ghost);
}

Spectrum spectrum_of(const TheoryFigureOptions& o, double m) { return Spectrum{o.c, o.omega, m}; }

// (a) p-sweep at fixed n, one curve per m: double descent with its pole at p = dn.
void p_sweep_figure(const TheoryFigureOptions& o, FigureWriter& out) {
  const double N = static_cast<double>(o.d) * o.n;  // equations of the p-sweep: the pole is at p = dn
  const std::string d_note = o.d == 1 ? "" : fmt::format(", d = {}", o.d);
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
    Series sim_test, sim_train;
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
void n_sweep_figure(const TheoryFigureOptions& o, FigureWriter& out) {
  const std::string d_note = o.d == 1 ? "" : fmt::format(", d = {}", o.d);
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

// A fine grid over [min m, max m] for the curves in m.
std::vector<double> m_grid(const TheoryFigureOptions& o) {
  const double m_lo = *std::min_element(o.m.begin(), o.m.end());
  const double m_hi = *std::max_element(o.m.begin(), o.m.end());
  std::vector<double> ms;
  if (m_hi > m_lo)
    for (int i = 0; i <= 140; ++i) ms.push_back(m_lo + (m_hi - m_lo) * i / 140.0);
  else
    ms = {m_lo};

  return ms;
}

// (c) m-sweep at fixed n, one curve per p: the loss grows with m, sublinearly.
void m_sweep_figure(const TheoryFigureOptions& o, FigureWriter& out) {
  const double N = static_cast<double>(o.d) * o.n;  // equations of the p-sweep: the pole is at p = dn
  const std::string d_note = o.d == 1 ? "" : fmt::format(", d = {}", o.d);
  const auto ms = m_grid(o);
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
void k_sweep_figure(const TheoryFigureOptions& o, FigureWriter& out) {
  const std::string d_note = o.d == 1 ? "" : fmt::format(", d = {}", o.d);
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
void sample_complexity_figure(const TheoryFigureOptions& o, FigureWriter& out) {
  const auto ms = m_grid(o);
  const double L = o.resolved_target_loss();
  Panel panel;
  panel.title = fmt::format("Samples n* for test loss L* = {:.4g} (c/L* = {:.3g}, Omega = {})", L, o.c / L, o.omega);
  panel.xlabel = "m (intrinsic dimension);   one curve per p = " + p_list_label(o.sample_p);
  panel.ylabel = "n* (samples)";
  panel.logy = true;
  std::vector<std::vector<std::string>> rows;
  for (const double p : o.sample_p) {
    Series s;  // untitled, as in the authors' figure: the legend would cover the curves
    s.dashed = true;
    for (const double m : ms) {
      s.x.push_back(m);
      s.y.push_back(sample_complexity(p, L, o.c, o.omega, m));
    }
    for (const double m : o.m)
      rows.push_back({fmt_num(p), fmt_num(m), fmt_num(L), fmt_num(sample_complexity(p, L, o.c, o.omega, m))});
    panel.series.push_back(s);
  }
  Series dig;
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
void write_summary(const TheoryFigureOptions& o, FigureWriter& out) {
  Json summary, spectrum, checks, nstar;
  spectrum.set("c", o.c).set("omega", o.omega).set("d", o.d);
  summary.set("spectrum", spectrum);
  // "at p = 100 train 0.85 / test 1.05 for m = 7 (0.16 / 0.19 for m = 2, 0.96 / 1.18 for m = 9)" (PAPER.md §2, n = 1000)
  const struct {
    double m, train, test;
  } quoted[] = {{2, 0.16, 0.19}, {7, 0.85, 1.05}, {9, 0.96, 1.18}};
  for (const auto& q : quoted) {
    const auto l = predict(spectrum_of(o, q.m), 1000, 100, o.d);
    Json j;
    j.set("train", l.train).set("test", l.test).set("paper_train", q.train).set("paper_test", q.test);
    checks.set(fmt::format("n1000_p100_m{}", q.m), j);
  }
  const auto large_p = predict(spectrum_of(o, 7), 1000, 1e5, o.d);
  checks.set("n1000_p1e5_m7_test", large_p.test);
  summary.set("paper_section2_checks", checks);
  const double L = o.resolved_target_loss();
  for (const auto& g : kDigitisedSampleComplexity) {
    const double v = sample_complexity(g.p, L, o.c, o.omega, g.m);
    Json j;
    j.set("formula", v).set("digitised", g.n).set("relative_difference", (v - g.n) / g.n);
    nstar.set(fmt::format("p{}_m{}", g.p, g.m), j);
  }
  nstar.set("target_loss", L);
  summary.set("sample_complexity", nstar);
  out.text("summary.json", summary.dump());
}

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

  p_sweep_figure(o, out);
  n_sweep_figure(o, out);
  m_sweep_figure(o, out);
  k_sweep_figure(o, out);
  sample_complexity_figure(o, out);
  write_summary(o, out);
  out.text("config.yaml", config::to_yaml(config::write(o)) + "\n");
  return out.written();
}

}  // namespace modnet::analysis

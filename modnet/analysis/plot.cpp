// Figures through gnuplot: a self-contained script (data inline as gnuplot datablocks) is written
// beside the PNG, then gnuplot renders it to a temporary file which is renamed into place.
#include "modnet/analysis/plot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "modnet/core/cli.h"
#include "modnet/core/error.h"
#include "modnet/core/files.h"
#include "modnet/core/log.h"

namespace fs = std::filesystem;

namespace modnet::analysis {

namespace {

// matplotlib's "tab10" cycle, for series without a colour of their own.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// A gnuplot single-quoted string: no escapes are interpreted inside except '' for one quote; it
// cannot span lines. (Text is drawn with the terminal's `noenhanced` option, so ^ _ @ & { } are
// literal too.)
std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "'";
}

bool is_hex(const std::string& s, size_t from) {
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// gnuplot colour spec for a series: "#AARRGGBB" where AA is transparency (00 = opaque).
std::string line_color(const Series& s, size_t index, size_t panel) {
  MODNET_CHECK(s.alpha > 0 && s.alpha <= 1, "plot: series '{}' of panel {}: alpha must be in (0, 1], got {}",
               s.title, panel, s.alpha);
  const std::string rgb = s.color.empty() ? kPalette[index % 10] : s.color;
  MODNET_CHECK(rgb.size() == 7 && rgb[0] == '#' && is_hex(rgb, 1),
               "plot: series '{}' of panel {}: colour must be \"\" or \"#RRGGBB\", got \"{}\"", s.title, panel,
               s.color);
  const int transparency = static_cast<int>(std::lround((1.0 - s.alpha) * 255.0));
  return fmt::format("#{:02x}{}", transparency, rgb.substr(1));
}

bool plottable(double x, double y, const Panel& p) {
  return std::isfinite(x) && std::isfinite(y) && (!p.logx || x > 0) && (!p.logy || y > 0);
}

}  // namespace

bool gnuplot_available() {
  static const bool available = [] {
    const int rc = std::system("gnuplot --version >/dev/null 2>&1");
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
  }();
  return available;
}

std::string gnuplot_script(const std::vector<Panel>& panels, const std::string& output_name, int columns, int width,
                           int height) {
  MODNET_CHECK(!panels.empty(), "plot: no panels to draw into '{}'", output_name);
  MODNET_CHECK(columns >= 0 && width >= 0 && height >= 0,
               "plot: columns, width and height must be >= 0 (0 = automatic), got {}, {}, {}", columns, width,
               height);
  const int n = static_cast<int>(panels.size());
  const int cols = columns == 0 ? n : std::min(columns, n);
  const int rows = (n + cols - 1) / cols;
  const int w = width > 0 ? width : 560 * cols;
  const int h = height > 0 ? height : 420 * rows;

  std::string gp;
  gp += "# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.\n";
  gp += fmt::format("# Remake the figure with:  cd <this directory> && gnuplot <this file>\n");
  gp += "# or write it elsewhere:   gnuplot -e \"outfile='other.png'\" <this file>\n";
  gp += fmt::format("if (!exists(\"outfile\")) outfile = {}\n", gp_quote(output_name));
  gp += "set encoding utf8\n";
  gp += fmt::format("set terminal pngcairo noenhanced size {},{} font ',10'\n", w, h);
  gp += "set output outfile\n";

  // Data: one datablock per series, a blank line wherever a point is skipped so lines break there.
  std::vector<std::vector<bool>> has_points(panels.size());
  for (size_t p = 0; p < panels.size(); ++p) {
    const auto& panel = panels[p];
    for (size_t s = 0; s < panel.series.size(); ++s) {
      const auto& series = panel.series[s];
      MODNET_CHECK(series.x.size() == series.y.size(),
                   "plot: series '{}' of panel {} ('{}') has {} x values but {} y values", series.title, p,
                   panel.title, series.x.size(), series.y.size());
      std::string block;
      bool any = false, last_was_data = false;
      for (size_t i = 0; i < series.x.size(); ++i) {
        if (plottable(series.x[i], series.y[i], panel)) {
          block += fmt::format("{} {}\n", series.x[i], series.y[i]);
          any = last_was_data = true;
        } else if (last_was_data) {
          block += "\n";
          last_was_data = false;
        }
      }
      has_points[p].push_back(any);
      if (any) gp += fmt::format("$s{}_{} << EOD\n{}EOD\n", p, s, block);
    }
  }

  if (n > 1) gp += fmt::format("set multiplot layout {},{}\n", rows, cols);
  for (size_t p = 0; p < panels.size(); ++p) {
    const auto& panel = panels[p];
    gp += fmt::format("\n# ---- panel {} ----\n", p);
    gp += fmt::format("set title {}\n", gp_quote(panel.title));
    gp += fmt::format("set xlabel {}\n", gp_quote(panel.xlabel));
    gp += fmt::format("set ylabel {}\n", gp_quote(panel.ylabel));
    gp += "unset label 1\nset autoscale xy\nunset logscale\nset grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'\n";
    gp += panel.legend ? "set key top right samplen 2\n" : "unset key\n";
    std::vector<std::string> items;
    for (size_t s = 0; s < panel.series.size(); ++s) {
      const auto& series = panel.series[s];
      MODNET_CHECK(series.style == "lines" || series.style == "points" || series.style == "linespoints",
                   "plot: series '{}' of panel {}: style must be lines, points or linespoints, got '{}'",
                   series.title, p, series.style);
      MODNET_CHECK(series.width > 0, "plot: series '{}' of panel {}: width must be > 0, got {}", series.title, p,
                   series.width);
      const std::string color = line_color(series, s, p);
      if (!has_points[p][s]) continue;
      std::string item = fmt::format("$s{}_{} using 1:2 with {} lw {} dt {} lc rgb '{}'", p, s, series.style,
                                     series.width, series.dashed ? 2 : 1, color);
      if (series.style != "lines") item += fmt::format(" pt 7 ps {}", 0.35 * series.width);
      item += series.title.empty() ? " notitle" : " title " + gp_quote(series.title);
      items.push_back(item);
    }
    if (items.empty()) {  // nothing to draw: an empty frame saying so, rather than a gnuplot error
      gp += "set xrange [0:1]\nset yrange [0:1]\nset label 1 'no data' at graph 0.5,0.5 center\n";
      gp += "plot NaN notitle\nset autoscale xy\n";
      continue;
    }
    if (panel.logx) gp += "set logscale x\n";
    if (panel.logy) gp += "set logscale y\n";
    gp += "plot ";
    for (size_t i = 0; i < items.size(); ++i) gp += (i ? ", \\\n     " : "") + items[i];
    gp += "\n";
  }
  if (n > 1) gp += "unset multiplot\n";
  gp += "set output\n";
  return gp;
}

bool write_png(const std::string& path, const std::vector<Panel>& panels, int columns, int width, int height) {
  const fs::path png(path);
  fs::path gp_path = png;
  gp_path.replace_extension(".gp");
  MODNET_CHECK(gp_path != png, "plot: output '{}' must not end in .gp", path);
  write_file_atomic(gp_path.string(), gnuplot_script(panels, png.filename().string(), columns, width, height));

  if (!gnuplot_available()) {
    log::warn("gnuplot not found: figure '{}' not rendered; its script is '{}' (run gnuplot on it later)", path,
              gp_path.string());
    return false;
  }
  // gnuplot renders to a temporary name, renamed into place only when it has succeeded.
  const std::string tag = fmt::format(".tmp.{}", ::getpid());
  const std::string tmp = path + tag + ".png";
  const std::string err = path + tag + ".err";
  const std::string cmd = fmt::format("gnuplot -e {} {} >/dev/null 2>{}", cli::shell_quote("outfile=" + gp_quote(tmp)),
                                      cli::shell_quote(gp_path.string()), cli::shell_quote(err));
  const int rc = std::system(cmd.c_str());
  std::error_code ec;
  const bool ok = rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0 && fs::exists(tmp, ec) &&
                  fs::file_size(tmp, ec) > 0;
  if (ok) {
    fs::rename(tmp, png, ec);
    if (!ec) {
      fs::remove(err, ec);
      return true;
    }
    log::warn("figure '{}': cannot rename '{}' into place: {}", path, tmp, ec.message());
  } else {
    std::string message;
    try {
      message = read_file(err);
    } catch (const Error&) {
    }
    while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) message.pop_back();
    if (message.size() > 600) message = "..." + message.substr(message.size() - 600);
    log::warn("gnuplot failed on '{}' (exit status {}): {}", gp_path.string(),
              rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : rc, message.empty() ? "no message" : message);
  }
  fs::remove(tmp, ec);
  fs::remove(err, ec);
  return false;
}

}  // namespace modnet::analysis

#pragma once
// Figures through gnuplot (pngcairo terminal), for reports and sweeps. Every figure is written as
// a self-contained gnuplot script beside the PNG (fig.png -> fig.gp, data inline), so that users
// can restyle it and remake it with `cd <dir> && gnuplot fig.gp`, even where gnuplot was missing
// when the figure was first made.
#include <string>
#include <vector>

namespace modnet::analysis {

struct Series {
  std::string title;          // legend entry ("" = none)
  std::vector<double> x, y;   // same length; points with a NaN/inf coordinate are skipped (lines break there)
  std::string style = "lines";  // lines | points | linespoints
  bool dashed = false;
  std::string color;          // "" = automatic (matplotlib's tab10 cycle), else "#RRGGBB"
  double alpha = 1.0;         // opacity in (0, 1]; < 1 draws light, semi-transparent lines
  double width = 2.0;         // line width (and point size scale)
};

struct Panel {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;  // points <= 0 on a log axis are skipped
  std::vector<Series> series;
  bool legend = true;
};

/// True when `gnuplot --version` runs (checked once per process).
bool gnuplot_available();

/// Draws `panels` (a multiplot grid of `columns` per row; 0 = all in one row) into the PNG `path`
/// of width × height pixels (0 = 560 per column × 420 per row). Writes the script `path` with
/// `.gp` instead of `.png` first (atomically), then runs gnuplot on it, which renders to a
/// temporary file that is renamed to `path` on success. Returns false, with a warning, when
/// gnuplot is missing or fails (the script stays). Bad arguments (no panels, x/y lengths that
/// differ, an unknown style or colour) throw modnet::Error.
bool write_png(const std::string& path, const std::vector<Panel>& panels, int columns = 0, int width = 0,
               int height = 0);

/// The gnuplot script write_png writes for these panels (output file name `output_name`, which a
/// `-e "outfile='…'"` on the gnuplot command line overrides).
std::string gnuplot_script(const std::vector<Panel>& panels, const std::string& output_name, int columns = 0,
                           int width = 0, int height = 0);

}  // namespace modnet::analysis

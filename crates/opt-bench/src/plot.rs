//! Convergence and trajectory plots (SVG and PNG), drawn with an embedded
//! font so they work on a machine without system fonts.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{BenchError, Result};

static REGISTER_FONT: Once = Once::new();

/// Register DejaVu Sans as plotters' "sans-serif" (once per process).
pub fn register_embedded_font() {
    REGISTER_FONT.call_once(|| {
        // The embedded file is a valid font; a failure would only mean text is not drawn.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// One labelled curve.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart with a logarithmic y axis.
#[derive(Debug, Clone)]
pub struct LogChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;

fn plot_error(path: &Path, error: impl std::fmt::Display) -> BenchError {
    BenchError::Io {
        file: path.display().to_string(),
        source: std::io::Error::other(error.to_string()),
    }
}

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// Draw on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Draw `chart` to `stem.svg` and `stem.png`; returns the two paths.
pub fn write_chart<C: Chart>(chart: &C, stem: &Path) -> Result<Vec<PathBuf>> {
    register_embedded_font();
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    {
        let root = SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&root).map_err(|e| plot_error(&svg, e))?;
        root.present().map_err(|e| plot_error(&svg, e))?;
    }
    {
        let root = BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&root).map_err(|e| plot_error(&png, e))?;
        root.present().map_err(|e| plot_error(&png, e))?;
    }
    Ok(vec![svg, png])
}

/// What drawing on a backend returns.
pub type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl Chart for LogChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let chart = self;
        root.fill(&WHITE)?;
        let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && y > 0.0;
        let points = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| finite(p)));
        let (mut x_max, mut y_min, mut y_max) = (0.0_f64, f64::INFINITY, 0.0_f64);
        for &(x, y) in points {
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        if !y_min.is_finite() {
            (y_min, y_max) = (1e-16, 1.0);
        }
        let x_max = if x_max > 0.0 { x_max } else { 1.0 };
        let y_min = y_min.max(1e-300) / 2.0;
        let y_max = (y_max * 2.0).max(y_min * 10.0);
        let mut context = ChartBuilder::on(root)
            .caption(chart.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())?;
        context
            .configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()?;
        for (index, series) in chart.series.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            context
                .draw_series(LineSeries::new(
                    series.points.iter().copied().filter(|p| finite(p)),
                    color.stroke_width(2),
                ))?
                .label(series.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        context
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    }
}

/// Iterate paths on a 2-D function drawn over a shaded map of `log10(1 + f)`.
#[derive(Debug, Clone)]
pub struct TrajectoryChart<'a, F: Fn(f64, f64) -> f64> {
    pub title: &'a str,
    pub function: F,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub paths: &'a [Series],
}

/// The 2-D Rosenbrock function `100 (y - x^2)^2 + (1 - x)^2`.
fn rosenbrock_2d(x: f64, y: f64) -> f64 {
    100.0 * (y - x * x).powi(2) + (1.0 - x).powi(2)
}

impl<'a> TrajectoryChart<'a, fn(f64, f64) -> f64> {
    /// Paths on the 2-D Rosenbrock function around its valley
    /// (`x` in [-1.5, 1.5], `y` in [-0.5, 1.5]).
    pub fn rosenbrock(title: &'a str, paths: &'a [Series]) -> Self {
        Self {
            title,
            function: rosenbrock_2d,
            x_range: (-1.5, 1.5),
            y_range: (-0.5, 1.5),
            paths,
        }
    }
}

impl<F: Fn(f64, f64) -> f64> Chart for TrajectoryChart<'_, F> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let chart = self;
        root.fill(&WHITE)?;
        let (x0, x1) = chart.x_range;
        let (y0, y1) = chart.y_range;
        let mut context = ChartBuilder::on(root)
            .caption(chart.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        context.configure_mesh().x_desc("x1").y_desc("x2").draw()?;
        const CELLS: usize = 80;
        let (dx, dy) = ((x1 - x0) / CELLS as f64, (y1 - y0) / CELLS as f64);
        let mut levels = Vec::with_capacity(CELLS * CELLS);
        for i in 0..CELLS {
            for j in 0..CELLS {
                let (x, y) = (x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy);
                levels.push((i, j, (1.0 + (chart.function)(x, y)).log10()));
            }
        }
        let top = levels.iter().map(|l| l.2).fold(1e-12, f64::max);
        context.draw_series(levels.iter().map(|&(i, j, level)| {
            let shade = (255.0 - 120.0 * (level / top).clamp(0.0, 1.0)) as u8;
            let cell = [
                (x0 + i as f64 * dx, y0 + j as f64 * dy),
                (x0 + (i + 1) as f64 * dx, y0 + (j + 1) as f64 * dy),
            ];
            Rectangle::new(cell, RGBColor(shade, shade, 255).filled())
        }))?;
        for (index, path) in chart.paths.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            let inside = |&(x, y): &(f64, f64)| x >= x0 && x <= x1 && y >= y0 && y <= y1;
            context
                .draw_series(LineSeries::new(
                    path.points.iter().copied().filter(inside),
                    color.stroke_width(2),
                ))?
                .label(path.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        context
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        Ok(())
    }
}

/// A Dolan-More performance profile: for each method the fraction of
/// problems it solved within a factor `tau` of the best method's cost,
/// against `log2(tau)`.
#[derive(Debug, Clone)]
pub struct ProfileChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    /// One step curve per method: points `(log2 tau, fraction)`.
    pub series: &'a [Series],
}

impl Chart for ProfileChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let x_max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .fold(1.0_f64, f64::max);
        let mut context = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..x_max, 0.0..1.02)?;
        context
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc("fraction of problems solved")
            .draw()?;
        for (index, series) in self.series.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            context
                .draw_series(LineSeries::new(
                    series.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(series.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        context
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        Ok(())
    }
}

/// The step curves of a Dolan-More profile from `costs[method][problem]`
/// (`None` = not solved): for each method, `rho(tau)` = the fraction of
/// problems with `cost <= tau * best cost on that problem`, as points
/// `(log2 tau, rho)` up to `log2 tau = x_max`. Problems no method solved
/// count in the denominator and never in the numerator.
pub fn performance_profile(costs: &[Vec<Option<f64>>], x_max: f64) -> Vec<Vec<(f64, f64)>> {
    let problems = costs.first().map_or(0, Vec::len);
    let best: Vec<Option<f64>> = (0..problems)
        .map(|p| {
            costs
                .iter()
                .filter_map(|method| method[p])
                .fold(None, |best: Option<f64>, c| {
                    Some(best.map_or(c, |b| b.min(c)))
                })
        })
        .collect();
    costs
        .iter()
        .map(|method| {
            let mut ratios: Vec<f64> = method
                .iter()
                .zip(&best)
                .filter_map(|(cost, best)| Some((cost.as_ref()? / best.as_ref()?).log2().max(0.0)))
                .collect();
            ratios.sort_by(f64::total_cmp);
            let total = problems.max(1) as f64;
            let mut points = vec![(0.0, 0.0)];
            let mut solved = 0usize;
            for ratio in ratios {
                let level = solved as f64 / total;
                points.push((ratio, level));
                solved += 1;
                points.push((ratio, solved as f64 / total));
            }
            points.push((x_max, solved as f64 / total));
            points
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::performance_profile;

    #[test]
    fn profile_steps_at_each_ratio_to_the_best() {
        // Problem 0: A costs 10, B 20 (B at ratio 2). Problem 1: A 40, B 10
        // (A at ratio 4). Problem 2: only B solves it. Problem 3: nobody.
        let costs = vec![
            vec![Some(10.0), Some(40.0), None, None],
            vec![Some(20.0), Some(10.0), Some(5.0), None],
        ];
        let curves = performance_profile(&costs, 5.0);
        // A: solved within tau = 1 on 1 of 4, within tau = 4 (log2 = 2) on 2.
        assert_eq!(
            curves[0],
            vec![
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 0.25),
                (2.0, 0.25),
                (2.0, 0.5),
                (5.0, 0.5)
            ]
        );
        // B: best on problems 1 and 2, ratio 2 (log2 = 1) on problem 0.
        assert_eq!(
            curves[1],
            vec![
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 0.25),
                (0.0, 0.25),
                (0.0, 0.5),
                (1.0, 0.5),
                (1.0, 0.75),
                (5.0, 0.75)
            ]
        );
    }
}

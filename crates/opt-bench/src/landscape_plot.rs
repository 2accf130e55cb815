//! Pictures of functions on a plane and along a line: a heat map of a grid
//! of values with contour lines and paths drawn over it ([`HeatMapChart`]),
//! a line chart with an optional second axis ([`LineChart`]), and animated
//! GIFs of any chart drawn frame by frame ([`write_gif`]). Used for loss
//! landscapes (`cargo xtask landscape`) and for optimizer paths on the
//! Rosenbrock function (the `unconstrained` suite).
//!
//! Contour lines are found by marching squares: on each grid cell, a level
//! crosses an edge whose end values straddle it, at the point given by
//! linear interpolation; the two (or, at a saddle, four) crossings of a cell
//! are joined by straight segments.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{BenchError, Result};
use crate::plot::{Chart, DrawResult, Series, register_embedded_font};

/// Colours of the paths, in order (ColorBrewer's Set1).
const PATH_COLORS: [RGBColor; 8] = [
    RGBColor(228, 26, 28),
    RGBColor(55, 126, 184),
    RGBColor(77, 175, 74),
    RGBColor(152, 78, 163),
    RGBColor(255, 127, 0),
    RGBColor(166, 86, 40),
    RGBColor(247, 129, 191),
    RGBColor(30, 30, 30),
];

/// The colour of path `index`.
pub fn path_color(index: usize) -> RGBColor {
    PATH_COLORS[index % PATH_COLORS.len()]
}

/// How values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shading {
    /// Viridis (dark blue for low values, yellow for high ones).
    Viridis,
    /// From white (low) to a muted blue (high), for paths in strong colours.
    Light,
}

/// Viridis at `0, 1/8, ..., 1` (matplotlib's values), linearly interpolated.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

impl Shading {
    /// The colour of `u` in `[0, 1]` (clamped).
    pub fn color(self, u: f64) -> RGBColor {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self {
            Self::Viridis => {
                let position = u * (VIRIDIS.len() - 1) as f64;
                let low = (position.floor() as usize).min(VIRIDIS.len() - 2);
                let w = position - low as f64;
                let (a, b) = (VIRIDIS[low], VIRIDIS[low + 1]);
                let mix =
                    |x: u8, y: u8| (f64::from(x) * (1.0 - w) + f64::from(y) * w).round() as u8;
                RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
            }
            Self::Light => {
                let shade = |white: f64, dark: f64| (white + (dark - white) * u).round() as u8;
                RGBColor(
                    shade(255.0, 120.0),
                    shade(255.0, 150.0),
                    shade(255.0, 215.0),
                )
            }
        }
    }
}

/// How paths are drawn on a [`HeatMapChart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PathStyle {
    /// A circle at every point (for short paths such as one point per epoch).
    pub mark_points: bool,
    /// The words "start" and "end" next to the first and last points.
    pub label_ends: bool,
    /// A filled dot at the last point (the head of a growing path).
    pub mark_last: bool,
}

/// A grid of values as coloured cells, with contour lines between colour
/// bands and paths drawn over it, and a colour bar.
#[derive(Debug, Clone)]
pub struct HeatMapChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Caption of the colour bar (what the values are, e.g. `log10 loss`).
    pub value_label: &'a str,
    /// Grid abscissas, increasing.
    pub xs: &'a [f64],
    /// Grid ordinates, increasing.
    pub ys: &'a [f64],
    /// `values[j][i]` at `(xs[i], ys[j])`; non-finite values are drawn grey.
    pub values: &'a [Vec<f64>],
    /// Contour levels, equally spaced between the smallest and largest
    /// finite values (`0`: none).
    pub levels: usize,
    /// Colour cells by band between contour levels (flat areas, small
    /// GIFs) instead of continuously.
    pub banded: bool,
    pub shading: Shading,
    /// Polylines drawn over the map, clipped to it; labelled in a legend
    /// when they have labels.
    pub paths: &'a [Series],
    pub path_style: PathStyle,
    /// Points marked with a cross and a label, e.g. a known minimum.
    pub marks: &'a [((f64, f64), &'a str)],
}

impl HeatMapChart<'_> {
    /// Smallest and largest finite values (`(0, 1)` when there are none).
    fn value_range(&self) -> (f64, f64) {
        let (low, high) = self
            .values
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if low.is_finite() && high > low {
            (low, high)
        } else if low.is_finite() {
            (low - 0.5, low + 0.5)
        } else {
            (0.0, 1.0)
        }
    }

    /// The colour of a cell of value `value` (grey when not finite).
    fn cell_color(&self, value: f64, range: (f64, f64)) -> RGBColor {
        if value.is_finite() {
            self.shading.color(self.scale(value, range))
        } else {
            RGBColor(160, 160, 160)
        }
    }

    /// Where `value` sits in the colour scale, in `[0, 1]`.
    fn scale(&self, value: f64, (low, high): (f64, f64)) -> f64 {
        let u = (value - low) / (high - low);
        if self.banded && self.levels > 0 {
            let bands = (self.levels + 1) as f64;
            ((u * bands).floor().min(bands - 1.0) + 0.5) / bands
        } else {
            u
        }
    }

    fn contour_levels(&self, (low, high): (f64, f64)) -> Vec<f64> {
        let bands = (self.levels + 1) as f64;
        (1..=self.levels)
            .map(|l| low + (high - low) * l as f64 / bands)
            .collect()
    }
}

/// The bounds of grid cell `i` of `grid`: halfway to its neighbours,
/// the grid's ends at the ends.
fn cell_bounds(grid: &[f64], i: usize) -> (f64, f64) {
    let low = if i == 0 {
        grid[0]
    } else {
        0.5 * (grid[i - 1] + grid[i])
    };
    let high = if i + 1 == grid.len() {
        grid[i]
    } else {
        0.5 * (grid[i] + grid[i + 1])
    };
    (low, high)
}

/// The segments of the contour at `level` of `values[j][i]` on the grid
/// `(xs[i], ys[j])`, by marching squares (module doc).
pub fn contour_segments(
    xs: &[f64],
    ys: &[f64],
    values: &[Vec<f64>],
    level: f64,
) -> Vec<[(f64, f64); 2]> {
    let mut segments = Vec::new();
    let rows = values.len().min(ys.len());
    for j in 0..rows.saturating_sub(1) {
        let columns = values[j].len().min(values[j + 1].len()).min(xs.len());
        for i in 0..columns.saturating_sub(1) {
            // corners counter-clockwise from (i, j)
            let corners = [
                (xs[i], ys[j], values[j][i]),
                (xs[i + 1], ys[j], values[j][i + 1]),
                (xs[i + 1], ys[j + 1], values[j + 1][i + 1]),
                (xs[i], ys[j + 1], values[j + 1][i]),
            ];
            if corners.iter().any(|c| !c.2.is_finite()) {
                continue;
            }
            let mut crossings = [(0.0, 0.0); 4];
            let mut count = 0;
            for edge in 0..4 {
                let (a, b) = (corners[edge], corners[(edge + 1) % 4]);
                if (a.2 < level) != (b.2 < level) {
                    let w = (level - a.2) / (b.2 - a.2);
                    crossings[count] = (a.0 + w * (b.0 - a.0), a.1 + w * (b.1 - a.1));
                    count += 1;
                }
            }
            match count {
                2 => segments.push([crossings[0], crossings[1]]),
                4 => {
                    // a saddle: join the crossings around the corners on
                    // the side of the level the cell's mean is not on
                    let mean = corners.iter().map(|c| c.2).sum::<f64>() / 4.0;
                    if (mean < level) == (corners[0].2 < level) {
                        segments.push([crossings[0], crossings[1]]);
                        segments.push([crossings[2], crossings[3]]);
                    } else {
                        segments.push([crossings[3], crossings[0]]);
                        segments.push([crossings[1], crossings[2]]);
                    }
                }
                _ => {}
            }
        }
    }
    segments
}

/// `points` equally spaced values from `start` to `end` (both included
/// when `points >= 2`; `[start]` for one point, none for zero).
pub fn grid(start: f64, end: f64, points: usize) -> Vec<f64> {
    match points {
        0 => Vec::new(),
        1 => vec![start],
        _ => (0..points)
            .map(|i| start + (end - start) * i as f64 / (points - 1) as f64)
            .collect(),
    }
}

/// The points of a path without those that move less than `resolution`
/// (per axis) from the last point kept; the last point is always kept.
/// Long paths (thousands of small steps) then draw the same with far
/// fewer points.
pub fn thin_path(
    points: impl IntoIterator<Item = (f64, f64)>,
    resolution: (f64, f64),
) -> Vec<(f64, f64)> {
    let mut kept: Vec<(f64, f64)> = Vec::new();
    let mut skipped = None;
    for point in points {
        match kept.last() {
            Some(&(x, y))
                if (point.0 - x).abs() < resolution.0 && (point.1 - y).abs() < resolution.1 =>
            {
                skipped = Some(point);
            }
            _ => {
                kept.push(point);
                skipped = None;
            }
        }
    }
    kept.extend(skipped);
    kept
}

/// Width of the colour bar's area, pixels.
const COLOR_BAR_WIDTH: u32 = 110;

impl Chart for HeatMapChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (width, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(width.saturating_sub(COLOR_BAR_WIDTH));
        let (Some(&x0), Some(&x1), Some(&y0), Some(&y1)) = (
            self.xs.first(),
            self.xs.last(),
            self.ys.first(),
            self.ys.last(),
        ) else {
            return Ok(());
        };
        let (x1, y1) = (
            if x1 > x0 { x1 } else { x0 + 1.0 },
            if y1 > y0 { y1 } else { y0 + 1.0 },
        );
        let range = self.value_range();
        let mut context = ChartBuilder::on(&main)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        context
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .draw()?;
        // one rectangle per run of equally coloured cells in a row (runs
        // are long when banded: a smaller SVG)
        let mut cells = Vec::with_capacity(self.xs.len() * self.ys.len());
        for (j, row) in self.values.iter().enumerate().take(self.ys.len()) {
            let (low_y, high_y) = cell_bounds(self.ys, j);
            let columns = row.len().min(self.xs.len());
            let mut i = 0;
            while i < columns {
                let color = self.cell_color(row[i], range);
                let mut end = i + 1;
                while end < columns && self.cell_color(row[end], range) == color {
                    end += 1;
                }
                let (low_x, _) = cell_bounds(self.xs, i);
                let (_, high_x) = cell_bounds(self.xs, end - 1);
                cells.push(Rectangle::new(
                    [(low_x, low_y), (high_x, high_y)],
                    color.filled(),
                ));
                i = end;
            }
        }
        context.draw_series(cells)?;
        let line_color = match self.shading {
            Shading::Viridis => WHITE.mix(0.55),
            Shading::Light => RGBColor(70, 90, 150).mix(0.45),
        };
        for level in self.contour_levels(range) {
            let segments = contour_segments(self.xs, self.ys, self.values, level);
            context.draw_series(
                segments
                    .into_iter()
                    .map(|[a, b]| PathElement::new(vec![a, b], line_color.stroke_width(1))),
            )?;
        }
        let inside = |&(x, y): &(f64, f64)| {
            x.is_finite() && y.is_finite() && x >= x0 && x <= x1 && y >= y0 && y <= y1
        };
        let mut legend = false;
        for (index, path) in self.paths.iter().enumerate() {
            let color = path_color(index);
            let points = thin_path(
                path.points.iter().copied().filter(inside),
                ((x1 - x0) / 2000.0, (y1 - y0) / 2000.0),
            );
            let drawn = context.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?;
            if !path.label.is_empty() {
                legend = true;
                drawn.label(path.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            }
            if self.path_style.mark_points {
                context.draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 4, color.stroke_width(2))),
                )?;
            }
            let last = path.points.last().copied().filter(inside);
            if self.path_style.mark_last
                && let Some(last) = last
            {
                context.draw_series([Circle::new(last, 5, color.filled())])?;
            }
            if self.path_style.label_ends {
                let first = path.points.first().copied().filter(inside);
                let text_style = ("sans-serif", 16).into_font().color(&WHITE);
                // "start" above and "end" below their points, so that they
                // stay apart when the two points are close
                for (point, word, offset) in [(first, "start", (7, -20)), (last, "end", (7, 4))] {
                    if let Some(point) = point {
                        context.draw_series([EmptyElement::at(point)
                            + Circle::new((0, 0), 5, color.filled())
                            + Text::new(word, offset, text_style.clone())])?;
                    }
                }
            }
        }
        for &(point, label) in self.marks {
            if inside(&point) {
                context.draw_series([Cross::new(point, 6, BLACK.stroke_width(2))])?;
                context.draw_series([Text::new(
                    label.to_owned(),
                    point,
                    ("sans-serif", 15).into_font().color(&BLACK),
                )])?;
            }
        }
        if legend {
            context
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()?;
        }
        self.draw_color_bar(&bar, range)
    }
}

impl HeatMapChart<'_> {
    fn draw_color_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        (low, high): (f64, f64),
    ) -> DrawResult<DB> {
        let mut bar = ChartBuilder::on(area)
            .margin_top(46)
            .margin_bottom(52)
            .margin_right(8)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..1.0, low..high)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(self.value_label)
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 13))
            .y_labels(6)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()?;
        const STEPS: usize = 120;
        let step = (high - low) / STEPS as f64;
        bar.draw_series((0..STEPS).map(|s| {
            let value = low + (s as f64 + 0.5) * step;
            let color = self.shading.color(self.scale(value, (low, high)));
            Rectangle::new(
                [
                    (0.0, low + s as f64 * step),
                    (1.0, low + (s + 1) as f64 * step),
                ],
                color.filled(),
            )
        }))?;
        Ok(())
    }
}

/// Curves against one x axis, with an optional second y axis on the right
/// (its own series, drawn dashed) and labelled vertical marks.
#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
    /// Plot `log10` of the left series' values (ticks show the values).
    pub log_y: bool,
    /// Label, series and range of the right axis.
    pub secondary: Option<(&'a str, &'a [Series], (f64, f64))>,
    /// Vertical lines at these x, labelled.
    pub marks: &'a [(f64, &'a str)],
}

impl Chart for LineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let transform = |y: f64| if self.log_y { y.log10() } else { y };
        let left: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .map(|&(x, y)| (x, transform(y)))
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect()
            })
            .collect();
        let all = left.iter().flatten();
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in all {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if !(x0.is_finite() && x1 > x0) {
            (x0, x1) = (0.0, 1.0);
        }
        if !(y0.is_finite() && y1 > y0) {
            (y0, y1) = if y0.is_finite() {
                (y0 - 0.5, y0 + 0.5)
            } else {
                (0.0, 1.0)
            };
        }
        let pad = 0.05 * (y1 - y0);
        let (y0, y1) = (y0 - pad, y1 + pad);
        let (s0, s1) = self.secondary.map_or((0.0, 1.0), |(_, _, range)| range);
        let log_y = self.log_y;
        let mut context = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .right_y_label_area_size(if self.secondary.is_some() { 60 } else { 0 })
            .build_cartesian_2d(x0..x1, y0..y1)?
            .set_secondary_coord(x0..x1, s0..s1);
        context
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .y_label_formatter(&|v| {
                if log_y {
                    format!("{:.3}", 10f64.powf(*v))
                } else {
                    format!("{v:.3}")
                }
            })
            .draw()?;
        for &(x, label) in self.marks {
            if x >= x0 && x <= x1 {
                context.draw_series([PathElement::new(
                    vec![(x, y0), (x, y1)],
                    BLACK.mix(0.35).stroke_width(1),
                )])?;
                context.draw_series([Text::new(
                    label.to_owned(),
                    (x, y1),
                    ("sans-serif", 15).into_font().color(&BLACK),
                )])?;
            }
        }
        for (index, (series, points)) in self.series.iter().zip(&left).enumerate() {
            let color = path_color(index);
            context
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(series.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if let Some((label, series, _)) = self.secondary {
            context.configure_secondary_axes().y_desc(label).draw()?;
            for (index, series) in series.iter().enumerate() {
                let color = path_color(self.series.len() + index);
                let points: Vec<(f64, f64)> = series
                    .points
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                context
                    .draw_secondary_series(DashedLineSeries::new(
                        points,
                        6,
                        4,
                        color.stroke_width(2),
                    ))?
                    .label(series.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
            }
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

/// Draw `frames` frames into an animated GIF of `size` pixels at `path`,
/// showing each for `delay_ms` milliseconds and looping; `draw(frame,
/// area)` draws frame `frame` (e.g. a [`Chart`] built for it). Returns the
/// path.
pub fn write_gif<F>(
    path: &Path,
    size: (u32, u32),
    delay_ms: u32,
    frames: usize,
    mut draw: F,
) -> Result<PathBuf>
where
    F: FnMut(usize, &DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult<BitMapBackend<'static>>,
{
    register_embedded_font();
    let gif_error = |error: &dyn std::fmt::Display| BenchError::Io {
        file: path.display().to_string(),
        source: std::io::Error::other(error.to_string()),
    };
    let root = BitMapBackend::gif(path, size, delay_ms)
        .map_err(|e| gif_error(&e))?
        .into_drawing_area();
    for frame in 0..frames {
        draw(frame, &root).map_err(|e| gif_error(&e))?;
        root.present().map_err(|e| gif_error(&e))?;
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contours_of_a_plane_are_straight_lines_at_the_level() {
        // f(x, y) = x + 2y on a 3 x 3 grid: the level 1.5 is x + 2y = 1.5
        let xs = [0.0, 1.0, 2.0];
        let ys = [0.0, 0.5, 1.0];
        let values: Vec<Vec<f64>> = ys
            .iter()
            .map(|&y| xs.iter().map(|&x| x + 2.0 * y).collect())
            .collect();
        let segments = contour_segments(&xs, &ys, &values, 1.5);
        assert!(!segments.is_empty());
        for segment in &segments {
            for &(x, y) in segment {
                assert!((x + 2.0 * y - 1.5).abs() < 1e-12, "{segment:?}");
            }
        }
        // a level outside the values crosses nothing; a NaN cell is skipped
        assert!(contour_segments(&xs, &ys, &values, 10.0).is_empty());
        let mut holed = values.clone();
        holed[0][0] = f64::NAN;
        assert!(contour_segments(&xs, &ys, &holed, 0.25).is_empty());
    }

    #[test]
    fn thinning_keeps_the_moves_and_the_last_point() {
        let points = [
            (0.0, 0.0),
            (0.1, 0.0),
            (0.2, 0.0),
            (2.0, 0.0),
            (2.0, 0.5),
            (2.0, 3.0),
        ];
        assert_eq!(
            thin_path(points, (1.0, 1.0)),
            vec![(0.0, 0.0), (2.0, 0.0), (2.0, 3.0)]
        );
        assert_eq!(
            thin_path(points[..3].iter().copied(), (1.0, 1.0)),
            vec![(0.0, 0.0), (0.2, 0.0)]
        );
        assert!(thin_path([], (1.0, 1.0)).is_empty());
    }

    #[test]
    fn bands_and_colours() {
        let chart = HeatMapChart {
            title: "",
            x_label: "",
            y_label: "",
            value_label: "",
            xs: &[],
            ys: &[],
            values: &[],
            levels: 3,
            banded: true,
            shading: Shading::Viridis,
            paths: &[],
            path_style: PathStyle::default(),
            marks: &[],
        };
        // 3 levels make 4 bands, each coloured at its middle
        assert_eq!(chart.scale(0.1, (0.0, 1.0)), 0.125);
        assert_eq!(chart.scale(1.0, (0.0, 1.0)), 0.875);
        assert_eq!(chart.contour_levels((0.0, 1.0)), vec![0.25, 0.5, 0.75]);
        assert_eq!(Shading::Viridis.color(0.0), RGBColor(68, 1, 84));
        assert_eq!(Shading::Viridis.color(1.0), RGBColor(253, 231, 37));
        assert_eq!(Shading::Light.color(0.0), RGBColor(255, 255, 255));
    }
}

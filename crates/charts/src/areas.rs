//! Stacked areas over a shared x axis (the paper's Figs 8a–c and 11): each layer drawn on top
//! of the ones before, so the top edge is the total; vertical marks name moments on the axis
//! (the holiday, day 23).

use anyhow::Result;
use plotters::prelude::*;

use crate::{build, color, entries, err, layout, mesh, point_labels, range, room, x_axis, y_axis};
use crate::{y_label_area, Area, Panel};

/// Draws `values[layer][i]` at `x[i]` stacked in order (a missing or negative value counts as
/// 0), with a dashed vertical line and its label at each of `marks`.
pub(crate) fn areas(
    area: &Area,
    p: &Panel,
    x: &[f64],
    names: &[String],
    values: &[Vec<f64>],
    marks: &[(f64, String)],
) -> Result<()> {
    let legend = entries(names.iter().enumerate().map(|(i, n)| (n.clone(), color(i))));
    let area = &layout::legend(area, &legend)?;
    let tops = stack(x.len(), values);
    let top = tops
        .last()
        .map_or(0.0, |t| t.iter().cloned().fold(0.0, f64::max));
    let (x0, x1) = range(x.iter().copied().chain(marks.iter().map(|m| m.0)), false);
    let x_area = 24 + layout::text_height(layout::LABEL) * 2;
    let (_, ph) = room(area, 60, x_area);
    // Totals start at zero.
    let y = y_axis(0.0, (top * 1.05).max(1e-9), false, ph);
    let (pw, _) = room(area, y_label_area(&y, &p.y_label), x_area);
    let x_ax = x_axis(x0, x1, false, pw);
    let mut chart = build(area, p, x_ax, y, x_area)?;
    mesh(&mut chart, p, true, true)?;
    let zero = vec![0.0; x.len()];
    for (i, upper) in tops.iter().enumerate() {
        let lower = if i == 0 { &zero } else { &tops[i - 1] };
        let outline: Vec<(f64, f64)> = x
            .iter()
            .zip(upper)
            .map(|(x, y)| (*x, *y))
            .chain(x.iter().zip(lower).rev().map(|(x, y)| (*x, *y)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                color(i).mix(0.75).filled(),
            )))
            .map_err(err)?;
    }
    let y_top = top * 1.05;
    for (at, _) in marks {
        chart
            .draw_series(DashedLineSeries::new(
                [(*at, 0.0), (*at, y_top)],
                4,
                3,
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
    }
    let labels: Vec<((f64, f64), String)> = marks
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(at, l)| ((*at, top), l.clone()))
        .collect();
    point_labels(&chart, &labels)
}

/// The running totals of `values` (layer by layer) at each of `n` points.
fn stack(n: usize, values: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::with_capacity(values.len());
    for layer in values {
        let below = out.last().cloned().unwrap_or_else(|| vec![0.0; n]);
        out.push(
            (0..n)
                .map(|i| {
                    let v = layer.get(i).copied().unwrap_or(0.0);
                    below[i] + if v.is_finite() && v > 0.0 { v } else { 0.0 }
                })
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::stack;

    #[test]
    fn layers_stack_and_gaps_count_as_zero() {
        let s = stack(3, &[vec![1.0, f64::NAN, 2.0], vec![0.5, 1.0, -1.0]]);
        assert_eq!(s, vec![vec![1.0, 0.0, 2.0], vec![1.5, 1.0, 2.0]]);
    }
}

//! Where text goes on a panel: the legend beside (or under) the plot instead of over the data,
//! labels beside points and marks that dodge each other, and category names under a bar or box
//! chart, turned upright when they would not fit side by side.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{err, Area};

/// Font sizes (plotters units; the SVG's font-size is these / 1.24).
pub const CAPTION: u32 = 18;
pub const LABEL: u32 = 14;
pub const SMALL: u32 = 13;

/// An estimate of the width in pixels of `s` at plotters font size `size`: generous, so that
/// estimated boxes that do not meet are apart in the browser too.
pub fn text_width(s: &str, size: u32) -> i32 {
    let em = f64::from(size) / 1.24;
    (s.chars().count() as f64 * em * 0.62).ceil() as i32
}

/// The height in pixels of a line of text at `size`.
pub fn text_height(size: u32) -> i32 {
    (f64::from(size) / 1.24 * 1.25).ceil() as i32
}

/// `s` cut to at most `px` pixels wide, with an ellipsis where it was cut.
pub fn fit(s: &str, size: u32, px: i32) -> String {
    if text_width(s, size) <= px {
        return s.to_string();
    }
    let mut out: String = s.chars().collect();
    while !out.is_empty() && text_width(&out, size) + text_width("…", size) > px {
        out.pop();
    }
    out.push('…');
    out
}

/// `names` each cut to at most `px` pixels as [`fit`] cuts them; names that would then read
/// the same (e.g. two policies that differ only at the end) are cut in the middle instead,
/// keeping their start and their end, so no two labels repeat.
pub fn fit_distinct(names: &[String], size: u32, px: i32) -> Vec<String> {
    let mut out: Vec<String> = names.iter().map(|n| fit(n, size, px)).collect();
    for i in 0..out.len() {
        let twin = (0..out.len()).any(|j| j != i && out[j] == out[i] && names[j] != names[i]);
        if twin {
            out[i] = fit_middle(&names[i], size, px);
        }
    }
    out
}

/// `s` cut to at most `px` pixels wide by leaving out its middle (start…end).
fn fit_middle(s: &str, size: u32, px: i32) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut keep = chars.len();
    loop {
        let head = keep.div_ceil(2);
        let tail = keep / 2;
        let cut: String = chars[..head]
            .iter()
            .chain(std::iter::once(&'…'))
            .chain(&chars[chars.len() - tail..])
            .collect();
        if keep == 0 || text_width(&cut, size) <= px {
            return cut;
        }
        keep -= 1;
    }
}

/// One legend line: a colour swatch and a name.
pub struct Entry {
    pub name: String,
    pub color: RGBColor,
}

/// Splits `area` into the plot's part and the legend's, draws the legend there and returns the
/// plot's part. The legend goes to the right when its names are short, else below the plot.
pub fn legend<'a>(area: &Area<'a>, entries: &[Entry]) -> Result<Area<'a>> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let line = text_height(LABEL) + 4;
    let swatch = 22;
    let widest = entries
        .iter()
        .map(|e| text_width(&e.name, LABEL))
        .max()
        .unwrap_or(0);
    let style = |anchor: HPos| {
        ("sans-serif", LABEL)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(anchor, VPos::Center))
    };
    if widest + swatch + 12 <= w * 3 / 10 && entries.len() as i32 * line + 40 <= h {
        let lw = widest + swatch + 12;
        let (plot, side) = area.split_horizontally(w - lw);
        for (i, e) in entries.iter().enumerate() {
            let y = 40 + i as i32 * line;
            side.draw(&Rectangle::new([(2, y - 4), (16, y + 4)], e.color.filled()))
                .map_err(err)?;
            side.draw(&Text::new(e.name.clone(), (swatch, y), style(HPos::Left)))
                .map_err(err)?;
        }
        return Ok(plot);
    }
    // Below: entries flow left to right in rows, names cut to the panel's width.
    let room = w - 16;
    let mut rows: Vec<Vec<(String, RGBColor, i32)>> = vec![Vec::new()];
    let mut x = 0;
    let all: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let names = fit_distinct(&all, LABEL, room - swatch);
    for (e, name) in entries.iter().zip(names) {
        let iw = text_width(&name, LABEL) + swatch + 14;
        if x + iw > room && !rows.last().unwrap().is_empty() {
            rows.push(Vec::new());
            x = 0;
        }
        rows.last_mut().unwrap().push((name, e.color, x));
        x += iw;
    }
    let lh = rows.len() as i32 * line + 6;
    let (plot, below) = area.split_vertically(h - lh);
    for (r, row) in rows.iter().enumerate() {
        let y = line / 2 + r as i32 * line;
        for (name, c, x) in row {
            let x = x + 8;
            below
                .draw(&Rectangle::new([(x, y - 4), (x + 14, y + 4)], c.filled()))
                .map_err(err)?;
            below
                .draw(&Text::new(name.clone(), (x + swatch, y), style(HPos::Left)))
                .map_err(err)?;
        }
    }
    Ok(plot)
}

/// A box in pixels: left, top, right, bottom.
pub type Box2 = (i32, i32, i32, i32);

fn meets(a: &Box2, b: &Box2) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Places labels beside points (pixel positions) inside `bounds`, each at the first of eight
/// spots around its point where it meets no label placed before; returns the offset of each
/// label's left-middle from its point, or `None` for a label that found no room.
pub fn dodge(points: &[((i32, i32), String)], bounds: Box2, size: u32) -> Vec<Option<(i32, i32)>> {
    let h = text_height(size);
    let mut taken: Vec<Box2> = Vec::new();
    points
        .iter()
        .map(|((px, py), text)| {
            let w = text_width(text, size);
            let spots = [
                (8, -h / 2 - 2),
                (8, h / 2 + 2),
                (-8 - w, -h / 2 - 2),
                (-8 - w, h / 2 + 2),
                (-w / 2, -h - 6),
                (-w / 2, h + 6),
                (10, 0),
                (-10 - w, 0),
            ];
            // Further out (up to four lines away) when the eight spots beside it are taken.
            let far = (1..=4).flat_map(|k| {
                [
                    (8, -(h + 2) * k),
                    (8, (h + 2) * k),
                    (-8 - w, -(h + 2) * k),
                    (-8 - w, (h + 2) * k),
                ]
            });
            let spot = spots.into_iter().chain(far).find(|(dx, dy)| {
                let b = (px + dx, py + dy - h / 2, px + dx + w, py + dy + h / 2);
                let inside =
                    b.0 >= bounds.0 && b.1 >= bounds.1 && b.2 <= bounds.2 && b.3 <= bounds.3;
                inside && !taken.iter().any(|t| meets(t, &b))
            });
            if let Some((dx, dy)) = spot {
                taken.push((
                    px + dx - 2,
                    py + dy - h / 2 - 1,
                    px + dx + w + 2,
                    py + dy + h / 2 + 1,
                ));
            }
            spot
        })
        .collect()
}

/// Category names under the plot at pixel positions `xs` (absolute), upright (reading upwards)
/// so they never run into each other; each cut to `room` pixels.
pub fn upright(area: &Area, xs: &[i32], top: i32, names: &[String], room: i32) -> Result<()> {
    let (bx, by) = area.get_base_pixel();
    let style = ("sans-serif", LABEL)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center))
        .transform(FontTransform::Rotate270);
    for (x, name) in xs.iter().zip(fit_distinct(names, LABEL, room)) {
        area.draw(&Text::new(name, (x - bx, top - by + 6), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_dodge_each_other_and_stay_inside() {
        let pts = vec![
            ((100, 100), "alpha".to_string()),
            ((102, 101), "beta".to_string()),
            ((104, 99), "gamma".to_string()),
        ];
        let got = dodge(&pts, (0, 0, 400, 300), LABEL);
        assert!(got.iter().all(Option::is_some), "{got:?}");
        let boxes: Vec<Box2> = pts
            .iter()
            .zip(&got)
            .map(|(((x, y), t), o)| {
                let (dx, dy) = o.unwrap();
                let h = text_height(LABEL);
                (
                    x + dx,
                    y + dy - h / 2,
                    x + dx + text_width(t, LABEL),
                    y + dy + h / 2,
                )
            })
            .collect();
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                assert!(!meets(&boxes[i], &boxes[j]), "{boxes:?}");
            }
        }
        // No room at all: the label is left out.
        assert_eq!(
            dodge(&[((5, 5), "x".repeat(40))], (0, 0, 20, 20), LABEL),
            [None]
        );
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(fit("short", LABEL, 200), "short");
        // Two names alike until their end stay apart: cut in the middle.
        let names = [
            "peak-shave:max-delay=5m,limit=auto,ttl=60s".to_string(),
            "peak-shave:max-delay=5m,limit=100,ttl=60s".to_string(),
            "fixed-keepalive:ttl=60s".to_string(),
        ];
        let cut = fit_distinct(&names, LABEL, 150);
        assert_ne!(cut[0], cut[1], "{cut:?}");
        assert!(
            cut[0].contains('…') && cut[0].ends_with("ttl=60s"),
            "{cut:?}"
        );
        assert!(cut.iter().all(|c| text_width(c, LABEL) <= 150), "{cut:?}");
        assert_eq!(cut[2], fit(&names[2], LABEL, 150));
        let cut = fit(&"x".repeat(100), LABEL, 100);
        assert!(
            cut.ends_with('…') && text_width(&cut, LABEL) <= 100,
            "{cut}"
        );
    }
}

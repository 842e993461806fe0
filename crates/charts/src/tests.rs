//! The charts drawn whole: every kind of panel, and a busy figure whose text labels, measured
//! from the SVG, do not overlap.

use super::*;

#[test]
fn draws_every_kind_of_panel() {
    let panels = vec![
        Panel::lines(
            "cdf",
            "seconds",
            "CDF",
            vec![Series::new(
                "R1",
                vec![(0.01, 0.1), (1.0, 0.5), (100.0, 1.0)],
            )],
        )
        .log_x()
        .marks(vec![(1.0, 0.5, "peak".into())]),
        Panel::scatter("s", "x", "y", vec![Series::new("a", vec![(1.0, 2.0)])])
            .log_x()
            .log_y(),
        Panel::body(
            "bars",
            "",
            "share",
            Body::Bars {
                categories: vec!["a".into(), "b".into()],
                stacks: vec!["x".into(), "y".into()],
                values: vec![vec![0.2, 0.5], vec![0.8, 0.5]],
                stacked: true,
            },
        ),
        Panel::body(
            "box",
            "",
            "s",
            Body::Boxes {
                categories: vec!["R1".into()],
                groups: vec!["small".into(), "large".into()],
                boxes: vec![vec![Some([0.1, 0.2, 0.3, 0.4, 0.5])], vec![None]],
            },
        )
        .log_y(),
        Panel::body(
            "areas",
            "day",
            "seconds",
            Body::Areas {
                x: vec![0.0, 1.0, 2.0],
                names: vec!["alloc".into(), "scheduling".into()],
                values: vec![vec![1.0, 2.0, 1.0], vec![0.5, f64::NAN, 0.5]],
                marks: vec![(1.0, "day 23".into())],
            },
        ),
        Panel::body(
            "heat",
            "",
            "",
            Body::Heat {
                labels: vec!["a".into(), "b".into()],
                values: vec![vec![1.0, -0.3], vec![-0.3, 1.0]],
                marked: vec![vec![true, false], vec![false, true]],
            },
        ),
    ];
    assert_eq!(tick(9.999999999999998), "10");
    assert_eq!(tick(1e-6 - 1e-21), "1e-6");
    assert_eq!(tick(0.25), "0.25");
    assert_eq!(tick(1e7), "10M");
    let svg = render(&panels, 2, (400, 300)).unwrap();
    assert!(svg.starts_with("<svg"));
    for text in [
        "cdf",
        "R1",
        "peak",
        "bars",
        "small",
        "1.00*",
        "-0.30",
        "seconds",
        "areas",
        "scheduling",
        "day 23",
    ] {
        assert!(svg.contains(text), "missing {text}");
    }
}

#[test]
fn empty_stacked_areas_draw_an_empty_panel() {
    // A region with nothing to stack (no hours, no groups) or groups with no hours: an empty
    // panel with its title and axes, from 0 up, not an error.
    for (x, names, values) in [
        (vec![], vec![], vec![]),
        (vec![], vec!["alloc".to_string()], vec![vec![]]),
        (vec![3.0], vec!["alloc".to_string()], vec![vec![0.0]]),
    ] {
        let panel = Panel::body(
            "R9",
            "hour",
            "pods",
            Body::Areas {
                x,
                names,
                values,
                marks: vec![],
            },
        );
        let svg = render(&[panel], 1, (400, 300)).unwrap();
        assert!(svg.contains("R9") && svg.contains("pods"));
        assert!(!svg.contains(">-"), "no negative tick on a count axis");
    }
}

/// The boxes of an SVG's <text> elements, estimated from their position, anchor, size,
/// baseline shift and rotation, with their text.
fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let k = format!(" {name}=\"");
        let i = tag.find(&k)? + k.len();
        Some(tag[i..i + tag[i..].find('"')?].to_string())
    };
    let mut out = Vec::new();
    for part in svg.split("<text").skip(1) {
        let (tag, rest) = part.split_once('>').unwrap();
        let text = rest.split("</text>").next().unwrap().trim().to_string();
        if text.is_empty() {
            continue;
        }
        let num = |n: &str| attr(tag, n).unwrap().parse::<f64>().unwrap();
        let (x, y, size) = (num("x"), num("y"), num("font-size"));
        let w = text.chars().count() as f64 * size * 0.55;
        let (l, r) = match attr(tag, "text-anchor").as_deref() {
            Some("end") => (-w, 0.0),
            Some("middle") => (-w / 2.0, w / 2.0),
            _ => (0.0, w),
        };
        let (t, b) = match attr(tag, "dy").as_deref() {
            Some("0.76em") => (0.0, size),
            Some("-0.5ex") => (-size, 0.0),
            _ => (-size / 2.0, size / 2.0),
        };
        let corners = [(l, t), (r, b)];
        let turned: Vec<(f64, f64)> = match attr(tag, "transform") {
            Some(tr) if tr.starts_with("rotate(270") => {
                corners.iter().map(|(dx, dy)| (*dy, -dx)).collect()
            }
            Some(tr) if tr.starts_with("rotate(90") => {
                corners.iter().map(|(dx, dy)| (-dy, *dx)).collect()
            }
            _ => corners.to_vec(),
        };
        let (x0, x1) = (turned[0].0.min(turned[1].0), turned[0].0.max(turned[1].0));
        let (y0, y1) = (turned[0].1.min(turned[1].1), turned[0].1.max(turned[1].1));
        out.push((text, [x + x0, y + y0, x + x1, y + y1]));
    }
    out
}

#[test]
fn labels_of_a_busy_chart_do_not_overlap() {
    let long = |s: &str| format!("{s}:range=4h,cv=2,head=5,tail=99,margin=10,oob=50");
    let names = [
        "fixed-keepalive:ttl=60s".to_string(),
        long("hybrid-histogram"),
        "timer-prewarm:ttl=60s,lead=5s".to_string(),
        "fixed-keepalive:ttl=10m".to_string(),
    ];
    let pts = [(27.0, 4.6), (235.0, 0.7), (31.0, 3.9), (100.0, 2.3)];
    let scatter = names
        .iter()
        .zip(pts)
        .map(|(n, p)| Series::new(n.clone(), vec![p]))
        .collect();
    let lr: Vec<(f64, f64)> = (0..100)
        .map(|i| (f64::from(i) * 230.0, 0.0021 + f64::from(i) * 1e-5))
        .collect();
    let panels = vec![
        Panel::scatter(
            "Cold starts against memory",
            "idle (%)",
            "rate (%)",
            scatter,
        ),
        Panel::body(
            "cold starts",
            "policy",
            "cold starts",
            Body::Bars {
                categories: names.to_vec(),
                stacks: vec!["cold starts".into()],
                values: vec![vec![120_000.0, 15_000.0, 80_000.0, 30_000.0]],
                stacked: false,
            },
        ),
        Panel::lines("learning rate", "tokens", "LR", vec![Series::new("lr", lr)]),
        Panel::lines(
            "peaks",
            "day",
            "requests",
            vec![Series::new("R1", vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5)])],
        )
        .marks(vec![
            (1.0, 2.0, "R1 14:38".into()),
            (1.02, 1.98, "R2 14:46".into()),
            (1.04, 1.99, "R3 14:58".into()),
        ]),
    ];
    let svg = render(&panels, 2, (640, 420)).unwrap();
    let boxes = text_boxes(&svg);
    assert!(boxes.len() > 30, "{}", boxes.len());
    for (i, (a, p)) in boxes.iter().enumerate() {
        for (b, q) in &boxes[i + 1..] {
            let w = p[2].min(q[2]) - p[0].max(q[0]);
            let h = p[3].min(q[3]) - p[1].max(q[1]);
            assert!(w <= 1.0 || h <= 1.0, "{a:?} {p:?} overlaps {b:?} {q:?}");
        }
    }
    // Every point of the scatter is named beside it, and ticks read short and distinct.
    let texts: Vec<&str> = boxes.iter().map(|(t, _)| t.as_str()).collect();
    assert!(texts.contains(&"fixed-keepalive:ttl=10m"));
    for t in ["2.2e-3", "3e-3", "100k", "5k", "20k"] {
        assert!(texts.contains(&t), "no tick {t} in {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.contains("120000")));
}

#[test]
fn marks_beyond_the_curve_widen_the_axes_and_keep_their_labels() {
    // A sweep's curve up to x = 315 and a policy marked at x = 370: the x axis reaches past
    // 370 and the mark's label is drawn.
    let curve: Vec<(f64, f64)> = [(10.0, 3.7), (45.0, 2.3), (70.0, 0.8), (160.0, 0.4)]
        .into_iter()
        .chain([(315.0, 0.13)])
        .collect();
    let panels = vec![Panel::lines(
        "Cold starts against wasted memory",
        "idle (%)",
        "rate (%)",
        vec![Series::new("sweep", curve)],
    )
    .marks(vec![
        (46.0, 1.0, "keep-alive ttl=60s".into()),
        (370.0, 0.12, "hybrid-histogram".into()),
    ])];
    let svg = render(&panels, 1, (640, 420)).unwrap();
    let texts: Vec<String> = text_boxes(&svg).into_iter().map(|(t, _)| t).collect();
    assert!(texts.iter().any(|t| t == "hybrid-histogram"), "{texts:?}");
    let ticks: Vec<f64> = texts.iter().filter_map(|t| t.parse().ok()).collect();
    assert!(ticks.iter().any(|v| *v >= 350.0), "{ticks:?}");
}

#[test]
fn a_band_is_shaded_behind_its_line_and_widens_the_axis() {
    let line = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
    let band = vec![(0.0, 0.5, 1.5), (1.0, 1.5, 2.5), (2.0, 2.0, 9.0)];
    let plain = render(
        &[Panel::lines(
            "p",
            "x",
            "y",
            vec![Series::new("a", line.clone())],
        )],
        1,
        (400, 300),
    )
    .unwrap();
    let banded = render(
        &[Panel::lines(
            "p",
            "x",
            "y",
            vec![Series::new("a", line).band(band)],
        )],
        1,
        (400, 300),
    )
    .unwrap();
    // One filled polygon in the line's colour (tab10 blue) at 18 % opacity, drawn before the
    // line; the band's top (9) is on the y axis, which the line alone does not reach.
    let poly = banded.find("<polygon").expect("the band is a polygon");
    assert!(banded[poly..].starts_with("<polygon opacity=\"0.18\" fill=\"#1F77B4\""));
    assert!(
        poly < banded.rfind("<polyline").unwrap(),
        "the line is drawn over the band"
    );
    assert!(!plain.contains("<polygon"));
    let ticks = |svg: &str| svg.matches("\n8\n</text>").count();
    assert!(ticks(&banded) == 1 && ticks(&plain) == 0);
}

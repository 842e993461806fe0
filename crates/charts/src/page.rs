//! The HTML page every report of both tools is: one shell and style sheet, escaping, tables
//! (numbers aligned right), links to the CSV files beside the page, and figures, linked or
//! inlined. Pages open from disk; nothing is fetched.

use std::fmt::Write as _;

/// `s` safe inside HTML text and attribute values: `& < > " '` written as entities.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link to `href` reading `text` (both escaped).
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
}

/// The style sheet all pages share.
const CSS: &str = "body{font-family:sans-serif;max-width:1500px;margin:auto;padding:1em;color:#222;line-height:1.4}\
table{border-collapse:collapse;margin:1em 0;font-size:90%}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f0f0f0}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
img,svg{max-width:100%;height:auto}img{border:1px solid #eee}figure{margin:1em 0}\
section{margin-bottom:2em}nav a,.data a{margin-right:.6em}";

/// A page being written: its title, extra style and body.
#[derive(Debug, Clone)]
pub struct Page {
    title: String,
    css: String,
    body: String,
}

impl Page {
    pub fn new(title: &str) -> Self {
        Self {
            title: title.into(),
            css: String::new(),
            body: String::new(),
        }
    }

    /// Style rules of this page, after the shared ones (so they win).
    pub fn style(mut self, css: &str) -> Self {
        self.css.push_str(css);
        self
    }

    /// HTML the caller built (and escaped) itself.
    pub fn html(&mut self, html: &str) -> &mut Self {
        self.body.push_str(html);
        if !html.ends_with('\n') {
            self.body.push('\n');
        }
        self
    }

    /// A heading `<hN>` with text, and an id to link to when `id` is not empty.
    pub fn heading(&mut self, level: u8, id: &str, text: &str) -> &mut Self {
        let level = level.clamp(1, 6);
        let id = if id.is_empty() {
            String::new()
        } else {
            format!(" id=\"{}\"", escape(id))
        };
        let _ = writeln!(self.body, "<h{level}{id}>{}</h{level}>", escape(text));
        self
    }

    /// A paragraph of plain text.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
        self
    }

    pub fn table(&mut self, t: &Table) -> &mut Self {
        self.body.push_str(&t.html());
        self
    }

    /// Links to the data files beside the page: "Data: a.csv b.csv".
    pub fn data_links<S: AsRef<str>>(&mut self, files: &[S]) -> &mut Self {
        if files.is_empty() {
            return self;
        }
        let links: Vec<String> = files
            .iter()
            .map(|f| {
                let f = escape(f.as_ref());
                format!("<a href=\"{f}\" download>{f}</a>")
            })
            .collect();
        let _ = writeln!(self.body, "<p class=\"data\">Data: {}</p>", links.join(" "));
        self
    }

    /// A chart in a file beside the page.
    pub fn image(&mut self, src: &str, alt: &str) -> &mut Self {
        let _ = writeln!(
            self.body,
            "<figure><img src=\"{}\" alt=\"{}\"></figure>",
            escape(src),
            escape(alt)
        );
        self
    }

    /// A chart drawn into the page (what comes before its `<svg` tag is left out).
    pub fn svg(&mut self, svg: &str) -> &mut Self {
        let svg = svg.find("<svg").map_or(svg, |i| &svg[i..]);
        let _ = writeln!(self.body, "<figure>{}</figure>", svg.trim_end());
        self
    }

    /// The whole page.
    pub fn finish(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
             <style>{CSS}{}</style></head><body>\n{}</body></html>\n",
            escape(&self.title),
            self.css,
            self.body
        )
    }
}

/// One table cell: its HTML, whether it holds a number, and a CSS class.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    html: String,
    numeric: Option<bool>,
    class: String,
}

impl Cell {
    /// Plain text, escaped; a number (or a blank such as "—") when it reads as one.
    pub fn text(s: &str) -> Self {
        Self {
            html: escape(s),
            numeric: numeric(s),
            class: String::new(),
        }
    }

    /// HTML the caller escaped (a link, bold text); never counted as a number.
    pub fn html(html: impl Into<String>) -> Self {
        Self {
            html: html.into(),
            numeric: Some(false),
            class: String::new(),
        }
    }

    /// A CSS class on the cell.
    pub fn class(mut self, class: &str) -> Self {
        self.class = class.into();
        self
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::text(s)
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::text(&s)
    }
}

/// `Some(true)` for a number (1,234, -0.5, 3e-3, 12 %, 4.2 s), `None` for a blank that says
/// nothing either way (—, n/a, empty), `Some(false)` for anything else.
fn numeric(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.is_empty() || t == "—" || t == "-" || t.eq_ignore_ascii_case("n/a") || t == "NaN" {
        return None;
    }
    let t = t
        .trim_end_matches('%')
        .trim_end_matches(" s")
        .trim_end()
        .trim_start_matches('+')
        .replace(',', "");
    Some(t.parse::<f64>().is_ok())
}

/// A table: a header row and rows of cells; a column whose cells are all numbers (blanks
/// aside) is aligned right, header included.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new<S: AsRef<str>>(header: &[S]) -> Self {
        Self {
            header: header.iter().map(|h| h.as_ref().to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<C: Into<Cell>>(&mut self, cells: impl IntoIterator<Item = C>) -> &mut Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn numeric_column(&self, c: usize) -> bool {
        let mut any = false;
        for r in &self.rows {
            match r.get(c).and_then(|cell| cell.numeric) {
                Some(false) => return false,
                Some(true) => any = true,
                None => {}
            }
        }
        any
    }

    pub fn html(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let num: Vec<bool> = (0..width).map(|c| self.numeric_column(c)).collect();
        let class = |c: usize, extra: &str| {
            let mut cls: Vec<&str> = Vec::new();
            if num[c] {
                cls.push("num");
            }
            if !extra.is_empty() {
                cls.push(extra);
            }
            if cls.is_empty() {
                String::new()
            } else {
                format!(" class=\"{}\"", escape(&cls.join(" ")))
            }
        };
        let mut h = String::from("<table><tr>");
        for (c, name) in self.header.iter().enumerate() {
            let _ = write!(h, "<th{}>{}</th>", class(c, ""), escape(name));
        }
        h.push_str("</tr>\n");
        for r in &self.rows {
            h.push_str("<tr>");
            for (c, cell) in r.iter().enumerate() {
                let _ = write!(h, "<td{}>{}</td>", class(c, &cell.class), cell.html);
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain — text"), "plain — text");
        assert_eq!(link("a b.csv", "<x>"), "<a href=\"a b.csv\">&lt;x&gt;</a>");
    }

    #[test]
    fn tables_align_numeric_columns_right() {
        let mut t = Table::new(&["policy", "cold starts", "rate", "note"]);
        t.row(["fixed<60s>", "1,234", "12.5 %", "ok"]);
        t.row(["hybrid", "—", "3e-3", "7"]);
        t.row(vec![
            Cell::html("<b>x</b>"),
            Cell::text("-5"),
            Cell::text("4.2 s"),
            Cell::text("fine").class("holds"),
        ]);
        assert_eq!(
            t.html(),
            "<table><tr><th>policy</th><th class=\"num\">cold starts</th><th class=\"num\">rate</th><th>note</th></tr>\n\
             <tr><td>fixed&lt;60s&gt;</td><td class=\"num\">1,234</td><td class=\"num\">12.5 %</td><td>ok</td></tr>\n\
             <tr><td>hybrid</td><td class=\"num\">—</td><td class=\"num\">3e-3</td><td>7</td></tr>\n\
             <tr><td><b>x</b></td><td class=\"num\">-5</td><td class=\"num\">4.2 s</td><td class=\"holds\">fine</td></tr>\n\
             </table>\n"
        );
        // A column of blanks only is not a number column.
        let mut blank = Table::new(&["a"]);
        blank.row(["—"]);
        assert!(!blank.html().contains("num"));
    }

    #[test]
    fn the_page_has_one_shell_with_escaped_title_and_figures() {
        let mut p = Page::new("a <b> report").style("body{max-width:900px}");
        p.heading(2, "fig1", "Figure 1: x & y")
            .para("5 < 6")
            .data_links(&["a.csv", "b c.csv"])
            .image("fig1.svg", "Figure \"1\"")
            .svg("<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>\n");
        let h = p.finish();
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{h}");
        assert!(h.contains("<title>a &lt;b&gt; report</title>"));
        assert!(h.contains("}body{max-width:900px}</style>"));
        assert!(h.contains("<h2 id=\"fig1\">Figure 1: x &amp; y</h2>"));
        assert!(h.contains("<p>5 &lt; 6</p>"));
        assert!(h.contains(
            "<p class=\"data\">Data: <a href=\"a.csv\" download>a.csv</a> <a href=\"b c.csv\" download>b c.csv</a></p>"
        ));
        assert!(h.contains("<img src=\"fig1.svg\" alt=\"Figure &quot;1&quot;\">"));
        assert!(h.contains("<figure><svg width=\"1\"></svg></figure>") && !h.contains("<?xml"));
        assert!(h.ends_with("</body></html>\n"));
    }
}

//! A statement as a printable A4 PDF: DejaVu Sans (regular and bold, shipped in `fonts/` with
//! its license) embedded as subsets, text extractable through each font's ToUnicode map.
//!
//! Reproducible: the same statement gives the same bytes except where the creation date is
//! written (the document information's `CreationDate` and the "Created" line). The document id
//! is a hash of what the statement is of (creator, period, run), every printable ASCII glyph
//! is put in each font subset first, in a fixed order, so a different date changes no glyph
//! id, and nothing else reads a clock or a random source.

use flate2::Compression;
use flate2::write::ZlibEncoder;
use lookback_core::time::format_instant_ms;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use std::io::Write;
use subsetter::GlyphRemapper;

use super::CreatorStatement;
use super::text::{money, own_money, percent, run_lines, statement_lines};
use crate::ReportError;

const REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.276;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const BODY_SIZE: f32 = 8.5;
const LINE: f32 = 12.0;

/// One embedded font: the glyphs a document uses, in the order it first used them.
struct FontUse {
    data: &'static [u8],
    /// PDF base font name, with a fixed subset tag.
    base_name: &'static str,
    resource: &'static str,
    remapper: GlyphRemapper,
    /// New glyph id → the character it was first used for.
    chars: Vec<Option<char>>,
}

impl FontUse {
    fn new(data: &'static [u8], base_name: &'static str, resource: &'static str) -> FontUse {
        let mut font = FontUse {
            data,
            base_name,
            resource,
            remapper: GlyphRemapper::new(),
            chars: vec![None],
        };
        // Every printable ASCII glyph first, in a fixed order (see the module docs).
        let ascii: String = (b' '..=b'~').map(char::from).collect();
        font.encode(&ascii);
        font
    }

    fn face(&self) -> ttf_parser::Face<'static> {
        ttf_parser::Face::parse(self.data, 0).expect("the shipped font parses")
    }

    /// The glyph of `c`, or of `?` when the font has none.
    fn glyph(face: &ttf_parser::Face<'_>, c: char) -> u16 {
        face.glyph_index(c)
            .or_else(|| face.glyph_index('?'))
            .map(|g| g.0)
            .unwrap_or(0)
    }

    /// The text as 2-byte codes of this document's subset (CID = new glyph id).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let face = self.face();
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let new = self.remapper.remap(Self::glyph(&face, c));
            let index = usize::from(new);
            if self.chars.len() <= index {
                self.chars.resize(index + 1, None);
            }
            if self.chars[index].is_none() {
                self.chars[index] = Some(c);
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let face = self.face();
        let units = f32::from(face.units_per_em());
        text.chars()
            .map(|c| {
                let glyph = ttf_parser::GlyphId(Self::glyph(&face, c));
                f32::from(face.glyph_hor_advance(glyph).unwrap_or(0)) * size / units
            })
            .sum()
    }
}

/// Text alignment within a column.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Lays out lines from the top of each A4 page down, starting a new page when one is full.
struct Layout {
    fonts: [FontUse; 2],
    pages: Vec<Content>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            fonts: [
                FontUse::new(REGULAR, "LBKAAA+DejaVuSans", "F1"),
                FontUse::new(BOLD, "LBKAAB+DejaVuSans-Bold", "F2"),
            ],
            pages: vec![Content::new()],
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    /// Makes room for `height` points, on a new page if this one has not got it.
    fn room(&mut self, height: f32) -> bool {
        if self.y - height < MARGIN + 20.0 {
            self.pages.push(Content::new());
            self.y = PAGE_HEIGHT - MARGIN;
            true
        } else {
            false
        }
    }

    fn draw(&mut self, x: f32, y: f32, size: f32, bold: bool, align: Align, text: &str) {
        let font = &mut self.fonts[usize::from(bold)];
        let x = match align {
            Align::Left => x,
            Align::Right => x - font.width(text, size),
        };
        let codes = font.encode(text);
        let resource = font.resource;
        let page = self.pages.last_mut().expect("a page");
        page.begin_text();
        page.set_font(Name(resource.as_bytes()), size);
        page.next_line(x, y);
        page.show(Str(&codes));
        page.end_text();
    }

    /// Text at the left margin, wrapped at spaces onto as many lines as the page's width needs.
    fn line(&mut self, size: f32, bold: bool, text: &str) {
        let width = PAGE_WIDTH - 2.0 * MARGIN;
        let mut current = String::new();
        for word in text.split(' ') {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if !current.is_empty() && self.fonts[usize::from(bold)].width(&candidate, size) > width
            {
                self.one_line(size, bold, &current);
                current = word.to_owned();
            } else {
                current = candidate;
            }
        }
        self.one_line(size, bold, &current);
    }

    fn one_line(&mut self, size: f32, bold: bool, text: &str) {
        self.room(size + 4.0);
        self.y -= size + 4.0;
        self.draw(MARGIN, self.y, size, bold, Align::Left, text);
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn rule(&mut self) {
        let y = self.y - 3.0;
        let page = self.pages.last_mut().expect("a page");
        page.set_line_width(0.5);
        page.move_to(MARGIN, y);
        page.line_to(PAGE_WIDTH - MARGIN, y);
        page.stroke();
        self.y -= 6.0;
    }

    /// A table: a bold header (repeated on each new page), then the rows.
    fn table(&mut self, columns: &[(&str, f32, Align)], rows: &[Vec<String>]) {
        self.table_header(columns);
        for row in rows {
            if self.room(LINE) {
                self.table_header(columns);
            }
            self.y -= LINE;
            for ((_, x, align), cell) in columns.iter().zip(row) {
                self.draw(*x, self.y, BODY_SIZE, false, *align, cell);
            }
        }
    }

    fn table_header(&mut self, columns: &[(&str, f32, Align)]) {
        self.room(LINE * 2.0);
        self.y -= LINE;
        for (title, x, align) in columns {
            self.draw(*x, self.y, BODY_SIZE, true, *align, title);
        }
        self.rule();
    }

    /// A heading of a section.
    fn heading(&mut self, text: &str) {
        self.room(LINE * 4.0);
        self.gap(8.0);
        self.line(11.0, true, text);
    }
}

const RIGHT: f32 = PAGE_WIDTH - MARGIN;

/// The statement as PDF bytes, created at `created_at_ms` (the only instant it shows besides
/// the data's own).
pub fn statement_pdf(s: &CreatorStatement, created_at_ms: i64) -> Result<Vec<u8>, ReportError> {
    let mut layout = Layout::new();
    let created = format_instant_ms(created_at_ms)?;
    // `2026-03-01T12:00:00.000Z` → `2026-03-01 12:00:00 UTC`.
    let created_text = format!("{} {} UTC", &created[..10], &created[11..19]);

    layout.line(18.0, true, "Creator statement");
    layout.gap(4.0);
    layout.line(
        12.0,
        true,
        &format!("{} ({})", s.display_name, s.creator_id),
    );
    layout.line(
        BODY_SIZE + 1.0,
        false,
        &format!(
            "Period {} to {} (days in {}) · amounts in {}",
            s.from, s.to, s.reporting_zone, s.currency
        ),
    );
    for text in run_lines(s) {
        layout.line(BODY_SIZE + 1.0, false, &text);
    }
    // The creation date is drawn into a content stream of its own, so that every other
    // stream of a statement is the same bytes whenever it is created.
    layout.y -= BODY_SIZE + 5.0;
    let created_y = layout.y;
    let created_line = format!("Created {created_text}");

    layout.heading("Summary");
    for (label, figure) in statement_lines(s) {
        let bold = label == "Net credited revenue";
        layout.room(LINE);
        layout.y -= LINE;
        layout.draw(MARGIN, layout.y, BODY_SIZE + 1.0, bold, Align::Left, &label);
        layout.draw(
            420.0,
            layout.y,
            BODY_SIZE + 1.0,
            bold,
            Align::Right,
            &figure,
        );
    }

    layout.heading(&format!(
        "Orders credited to {} in the period",
        s.display_name
    ));
    if s.orders.is_empty() {
        layout.line(
            BODY_SIZE,
            false,
            "No order of the period is credited to this creator.",
        );
    } else {
        let rows: Vec<Vec<String>> = s
            .orders
            .iter()
            .map(|o| {
                vec![
                    o.order_id.clone(),
                    o.day.to_string(),
                    percent(o.share_ppb),
                    money(s, o.credited_gross_minor),
                    money(s, -o.refunds_minor),
                    money(s, o.amount_minor),
                    if o.provisional {
                        "provisional"
                    } else {
                        "settled"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        layout.table(
            &[
                ("Order", MARGIN, Align::Left),
                ("Day", 190.0, Align::Left),
                ("Share", 290.0, Align::Right),
                ("Credited gross", 375.0, Align::Right),
                ("Refunds", 440.0, Align::Right),
                ("Amount", 505.0, Align::Right),
                ("Status", 510.0, Align::Left),
            ],
            &rows,
        );
    }

    layout.heading("Clawbacks: refunds and chargebacks of earlier orders booked in the period");
    if s.clawbacks.is_empty() {
        layout.line(BODY_SIZE, false, "None.");
    } else {
        let rows: Vec<Vec<String>> = s
            .clawbacks
            .iter()
            .map(|c| {
                vec![
                    c.order_id.clone(),
                    c.order_day.to_string(),
                    c.booked_day.to_string(),
                    percent(c.share_ppb),
                    money(s, c.amount_minor),
                ]
            })
            .collect();
        layout.table(
            &[
                ("Order", MARGIN, Align::Left),
                ("Order day", 190.0, Align::Left),
                ("Booked", 270.0, Align::Left),
                ("Share", 400.0, Align::Right),
                ("Amount", RIGHT, Align::Right),
            ],
            &rows,
        );
    }

    layout.heading("Fees and commissions in the period");
    if s.costs.is_empty() {
        layout.line(BODY_SIZE, false, "None.");
    } else {
        let rows: Vec<Vec<String>> = s
            .costs
            .iter()
            .map(|c| {
                vec![
                    c.day.clone(),
                    c.kind.clone(),
                    c.cost_id.clone(),
                    own_money(c.amount_minor, &c.currency),
                ]
            })
            .collect();
        layout.table(
            &[
                ("Day", MARGIN, Align::Left),
                ("Kind", 130.0, Align::Left),
                ("Reference", 210.0, Align::Left),
                ("Amount", RIGHT, Align::Right),
            ],
            &rows,
        );
    }

    layout.heading("Model changes that took effect in the period");
    if s.model_changes.is_empty() {
        layout.line(
            BODY_SIZE,
            false,
            "None: the whole period is under the model above.",
        );
    } else {
        for c in &s.model_changes {
            let at = format_instant_ms(c.changed_at_ms)?;
            layout.line(
                BODY_SIZE,
                false,
                &format!(
                    "{} {} UTC: {} → {} ({})",
                    &at[..10],
                    &at[11..16],
                    c.from_model.as_deref().unwrap_or("last-touch"),
                    c.to_model,
                    c.reason
                ),
            );
        }
    }

    layout.heading("How these figures are made");
    for text in [
        "Each order's amount is the creator's credited share of its revenue, net of the refunds and chargebacks booked by the period's end.",
        "A refund or chargeback booked later is a clawback on the statement of the period it falls in, so consecutive statements add up.",
        "Provisional orders are within the settlement window or disputed; their amounts can still change.",
        "Costs are converted to the reporting currency at their own day's rate; ROAS = net credited revenue / costs.",
    ] {
        layout.line(BODY_SIZE - 0.5, false, text);
    }

    let created_stream = {
        let font = &mut layout.fonts[0];
        let codes = font.encode(&created_line);
        let mut content = Content::new();
        content.begin_text();
        content.set_font(Name(font.resource.as_bytes()), BODY_SIZE + 1.0);
        content.next_line(MARGIN, created_y);
        content.show(Str(&codes));
        content.end_text();
        content.finish().to_vec()
    };
    write_pdf(layout, s, created_at_ms, created_stream)
}

/// The objects of the document: catalog, pages with a footer each, the two font subsets and
/// the document information.
fn write_pdf(
    mut layout: Layout,
    s: &CreatorStatement,
    created_at_ms: i64,
    created_stream: Vec<u8>,
) -> Result<Vec<u8>, ReportError> {
    let page_count = layout.pages.len();
    let footer_of = |index: usize| {
        format!(
            "{} · {} to {} · page {} of {}",
            s.creator_id,
            s.from,
            s.to,
            index + 1,
            page_count
        )
    };
    for index in 0..page_count {
        let footer = footer_of(index);
        let font = &mut layout.fonts[0];
        let width = font.width(&footer, 7.5);
        let codes = font.encode(&footer);
        let page = &mut layout.pages[index];
        page.begin_text();
        page.set_font(Name(b"F1"), 7.5);
        page.next_line(RIGHT - width, MARGIN - 20.0);
        page.show(Str(&codes));
        page.end_text();
    }

    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let pages_id = alloc();
    let info_id = alloc();
    let font_ids: Vec<[Ref; 5]> = (0..2)
        .map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()])
        .collect();
    let page_ids: Vec<(Ref, Ref)> = (0..page_count).map(|_| (alloc(), alloc())).collect();
    let created_id = alloc();

    pdf.catalog(catalog_id).pages(pages_id);
    pdf.pages(pages_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(page_count as i32);
    for (index, ((page_id, content_id), content)) in page_ids.iter().zip(layout.pages).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(pages_id);
        if index == 0 {
            page.contents_array([*content_id, created_id]);
        } else {
            page.contents(*content_id);
        }
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        for (font, ids) in layout.fonts.iter().zip(&font_ids) {
            fonts.pair(Name(font.resource.as_bytes()), ids[0]);
        }
        fonts.finish();
        resources.finish();
        page.finish();
        let compressed = deflate(&content.finish(), "page content")?;
        pdf.stream(*content_id, &compressed)
            .filter(Filter::FlateDecode);
    }
    pdf.stream(created_id, &created_stream);

    for (font, ids) in layout.fonts.iter().zip(&font_ids) {
        write_font(&mut pdf, font, *ids)?;
    }

    let created = format_instant_ms(created_at_ms)?;
    let number = |range: std::ops::Range<usize>| created[range].parse::<u16>().unwrap_or(0);
    let date = Date::new(number(0..4))
        .month(number(5..7) as u8)
        .day(number(8..10) as u8)
        .hour(number(11..13) as u8)
        .minute(number(14..16) as u8)
        .second(number(17..19) as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    let title = format!(
        "Creator statement: {} ({} to {})",
        s.display_name, s.from, s.to
    );
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .creator(TextStr("Lookback"))
        .producer(TextStr("Lookback"))
        .creation_date(date);

    let id = Sha256::digest(
        format!(
            "{}\n{}\n{}\n{}\n{}",
            s.creator_id, s.from, s.to, s.run.run_id, s.run.input_watermark
        )
        .as_bytes(),
    )[..16]
        .to_vec();
    pdf.set_file_id((id.clone(), id));
    Ok(pdf.finish())
}

/// A Type 0 font over a CIDFontType2 (TrueType) subset: ids = [type0, cid font, descriptor,
/// font file, ToUnicode].
fn write_font(pdf: &mut Pdf, font: &FontUse, ids: [Ref; 5]) -> Result<(), ReportError> {
    let [type0_id, cid_id, descriptor_id, file_id, cmap_id] = ids;
    let face = font.face();
    let units = f32::from(face.units_per_em());
    let scale = |v: i16| f32::from(v) * 1000.0 / units;
    let base = Name(font.base_name.as_bytes());
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(type0_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let widths: Vec<f32> = font
        .remapper
        .remapped_gids()
        .map(|old| {
            let advance = face
                .glyph_hor_advance(ttf_parser::GlyphId(old))
                .unwrap_or(0);
            f32::from(advance) * 1000.0 / units
        })
        .collect();
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(info)
        .font_descriptor(descriptor_id)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, widths);
    cid.finish();

    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor_id)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(face.ascender()))
        .descent(scale(face.descender()))
        .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(80.0)
        .font_file2(file_id);

    let subset = subsetter::subset(font.data, 0, &font.remapper).map_err(|e| ReportError::Io {
        path: font.base_name.into(),
        source: std::io::Error::other(format!("font subset: {e}")),
    })?;
    let compressed = deflate(&subset, font.base_name)?;
    pdf.stream(file_id, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
    for (new, c) in font.chars.iter().enumerate() {
        if let Some(c) = c {
            cmap.pair(new as u16, *c);
        }
    }
    pdf.cmap(cmap_id, &cmap.finish());
    Ok(())
}

/// `data` zlib-compressed (deterministic: the same bytes in, the same bytes out).
fn deflate(data: &[u8], what: &str) -> Result<Vec<u8>, ReportError> {
    let io = |source| ReportError::Io {
        path: what.into(),
        source,
    };
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).map_err(io)?;
    encoder.finish().map_err(io)
}

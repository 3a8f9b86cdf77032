//! The embedded font: DejaVu Sans (assets/fonts, Bitstream Vera licence), read once for the
//! metrics a PDF needs — the advance width of each Windows-1252 character, the bounding box,
//! ascent and descent. Only the tables used are parsed; a malformed font is an error, never a
//! panic.

use std::sync::OnceLock;

pub const TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub const NAME: &str = "DejaVuSans";

/// Metrics in PDF glyph space (1/1000 of the font size).
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Widths of codes 32..=255 in Windows-1252.
    pub widths: [u16; 224],
    pub bbox: [i32; 4],
    pub ascent: i32,
    pub descent: i32,
}

impl Metrics {
    /// Width of `text` at `size` points (characters outside Windows-1252 count as `?`).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.widths[usize::from(encode(c)).saturating_sub(32).min(223)]))
            .sum();
        units as f32 * size / 1000.0
    }
}

pub fn metrics() -> Result<&'static Metrics, String> {
    static M: OnceLock<Result<Metrics, String>> = OnceLock::new();
    M.get_or_init(|| parse(TTF)).as_ref().map_err(Clone::clone)
}

/// The Windows-1252 byte of a character; `?` for what it cannot show.
pub fn encode(c: char) -> u8 {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA0..=0xFF => u as u8,
        _ => CP1252_HIGH
            .iter()
            .position(|&x| x == u)
            .map(|i| 0x80 + i as u8)
            .unwrap_or(b'?'),
    }
}

/// Unicode of 0x80..=0x9F in Windows-1252 (0 where undefined).
const CP1252_HIGH: [u32; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

fn unicode_of(code: u8) -> u32 {
    match code {
        0x80..=0x9F => CP1252_HIGH[usize::from(code - 0x80)],
        c => u32::from(c),
    }
}

struct Font<'a>(&'a [u8]);

impl<'a> Font<'a> {
    fn u16(&self, at: usize) -> Result<u16, String> {
        self.0
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "font file too short".to_owned())
    }
    fn i16(&self, at: usize) -> Result<i16, String> {
        self.u16(at).map(|v| v as i16)
    }
    fn u32(&self, at: usize) -> Result<u32, String> {
        Ok((u32::from(self.u16(at)?) << 16) | u32::from(self.u16(at + 2)?))
    }
    fn table(&self, tag: &[u8; 4]) -> Result<usize, String> {
        let n = usize::from(self.u16(4)?);
        for i in 0..n {
            let rec = 12 + 16 * i;
            if self.0.get(rec..rec + 4) == Some(tag) {
                return Ok(self.u32(rec + 8)? as usize);
            }
        }
        Err(format!(
            "font has no {} table",
            String::from_utf8_lossy(tag)
        ))
    }

    /// Glyph of `c` from a format-4 (BMP) subtable of `cmap`.
    fn glyph(&self, cmap4: usize, c: u32) -> Result<u16, String> {
        if c > 0xFFFF {
            return Ok(0);
        }
        let c = c as u16;
        let segs = usize::from(self.u16(cmap4 + 6)? / 2);
        let ends = cmap4 + 14;
        let starts = ends + 2 * segs + 2;
        let deltas = starts + 2 * segs;
        let offsets = deltas + 2 * segs;
        for i in 0..segs {
            if self.u16(ends + 2 * i)? < c {
                continue;
            }
            let start = self.u16(starts + 2 * i)?;
            if start > c {
                return Ok(0);
            }
            let delta = self.u16(deltas + 2 * i)?;
            let ro = self.u16(offsets + 2 * i)?;
            if ro == 0 {
                return Ok(c.wrapping_add(delta));
            }
            let at = offsets + 2 * i + usize::from(ro) + 2 * usize::from(c - start);
            let g = self.u16(at)?;
            return Ok(if g == 0 { 0 } else { g.wrapping_add(delta) });
        }
        Ok(0)
    }
}

fn parse(data: &[u8]) -> Result<Metrics, String> {
    let f = Font(data);
    let head = f.table(b"head")?;
    let em = i32::from(f.u16(head + 18)?.max(1));
    let scale = |v: i32| v * 1000 / em;
    let bbox = [
        scale(i32::from(f.i16(head + 36)?)),
        scale(i32::from(f.i16(head + 38)?)),
        scale(i32::from(f.i16(head + 40)?)),
        scale(i32::from(f.i16(head + 42)?)),
    ];
    let hhea = f.table(b"hhea")?;
    let ascent = scale(i32::from(f.i16(hhea + 4)?));
    let descent = scale(i32::from(f.i16(hhea + 6)?));
    let metrics_n = usize::from(f.u16(hhea + 34)?.max(1));
    let hmtx = f.table(b"hmtx")?;
    let cmap = f.table(b"cmap")?;
    let mut cmap4 = None;
    for i in 0..usize::from(f.u16(cmap + 2)?) {
        let rec = cmap + 4 + 8 * i;
        let (platform, encoding) = (f.u16(rec)?, f.u16(rec + 2)?);
        let sub = cmap + f.u32(rec + 4)? as usize;
        if platform == 3 && encoding == 1 && f.u16(sub)? == 4 {
            cmap4 = Some(sub);
        }
    }
    let cmap4 = cmap4.ok_or("font has no Unicode BMP cmap")?;
    let mut widths = [0u16; 224];
    for (i, w) in widths.iter_mut().enumerate() {
        let g = usize::from(f.glyph(cmap4, unicode_of(32 + i as u8))?);
        let advance = f.u16(hmtx + 4 * g.min(metrics_n - 1))?;
        *w = ((i32::from(advance) * 1000 + em / 2) / em) as u16;
    }
    Ok(Metrics {
        widths,
        bbox,
        ascent,
        descent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dejavu_sans_metrics() {
        let m = metrics().unwrap();
        // DejaVu Sans: space 318, 'A' 684, 'm' 974 units of 1000.
        assert_eq!(m.widths[0], 318);
        assert_eq!(m.widths[usize::from(b'A' - 32)], 684);
        assert_eq!(m.widths[usize::from(b'm' - 32)], 974);
        assert!(m.ascent > 700 && m.descent < 0);
        assert_eq!(encode('–'), 0x96);
        assert_eq!(encode('é'), 0xE9);
        assert_eq!(encode('漢'), b'?');
        assert!(parse(&TTF[..100]).is_err());
    }
}

//! LZMA zip members (method 14, APPNOTE 5.8), as Python's `zipfile` and 7-Zip write them: a
//! 4-byte header (LZMA SDK version, then the size of the properties), the 5 bytes of LZMA
//! properties, then the raw stream, with no unpacked-size field. The `zip` crate's own decoder
//! expects an 8-byte size after the properties and so fails on them; this one decodes them
//! with `lzma-rs` given the size from the zip directory, and checks the CRC-32 at the end.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Error, ErrorKind, Read, Result};

use lzma_rs::decompress::{Options, Stream, UnpackedSize};

/// A decompressing reader over a member's raw (still compressed) bytes.
pub struct ZipLzma<R> {
    raw: BufReader<R>,
    /// The decoder while input remains; None once it has been finished into `tail`.
    stream: Option<Stream<VecDeque<u8>>>,
    tail: VecDeque<u8>,
    crc: crc32fast::Hasher,
    expected_crc: u32,
    left: u64,
    checked: bool,
}

impl<R: Read> ZipLzma<R> {
    /// `raw`: the member's compressed bytes; `size` and `crc`: its uncompressed size and CRC-32
    /// from the directory.
    pub fn new(raw: R, size: u64, crc: u32) -> Result<Self> {
        let mut raw = BufReader::with_capacity(1 << 16, raw);
        let mut head = [0u8; 4];
        raw.read_exact(&mut head)?;
        let props = u16::from_le_bytes([head[2], head[3]]);
        if props != 5 {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("LZMA member with {props} bytes of properties (5 expected)"),
            ));
        }
        let options = Options {
            unpacked_size: UnpackedSize::UseProvided(Some(size)),
            memlimit: None,
            allow_incomplete: false,
        };
        Ok(Self {
            raw,
            stream: Some(Stream::new_with_options(&options, VecDeque::new())),
            tail: VecDeque::new(),
            crc: crc32fast::Hasher::new(),
            expected_crc: crc,
            left: size,
            checked: false,
        })
    }
}

fn invalid(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidData, format!("corrupt LZMA member: {e}"))
}

impl<R: Read> Read for ZipLzma<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            let out = match self.stream.as_mut() {
                Some(s) => s.get_output_mut().ok_or_else(|| invalid("no output"))?,
                None => &mut self.tail,
            };
            if !out.is_empty() {
                let n = out.read(buf)?;
                self.crc.update(&buf[..n]);
                self.left = self.left.saturating_sub(n as u64);
                return Ok(n);
            }
            let Some(stream) = self.stream.as_mut() else {
                if !self.checked {
                    self.checked = true;
                    if self.left != 0 {
                        return Err(invalid(format!("{} bytes short", self.left)));
                    }
                    let crc = std::mem::take(&mut self.crc).finalize();
                    if crc != self.expected_crc {
                        return Err(invalid("CRC-32 mismatch"));
                    }
                }
                return Ok(0);
            };
            let chunk = self.raw.fill_buf()?;
            // The decoder takes nothing more once the unpacked size is reached (an end marker
            // may follow it): that, or the end of the input, finishes it.
            let taken = if chunk.is_empty() {
                0
            } else {
                std::io::Write::write(stream, chunk).map_err(invalid)?
            };
            if taken == 0 {
                let stream = self.stream.take().expect("present");
                self.tail = stream.finish().map_err(invalid)?;
                continue;
            }
            self.raw.consume(taken);
        }
    }
}

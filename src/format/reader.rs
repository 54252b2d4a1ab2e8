//! A bounds-checked cursor for parsing untrusted bytes: every read either
//! succeeds or yields a `MalformedCiphertext` naming what was being read.

use crate::error::{Error, Result};

pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        let remaining = self.data.len() - self.pos;
        if n > remaining {
            return Err(Error::malformed(format!(
                "{}: {field} needs {n} bytes at offset {}, only {remaining} left",
                self.what, self.pos
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A u16 length followed by that many bytes.
    pub(crate) fn u16_prefixed(&mut self, field: &str) -> Result<&'a [u8]> {
        let len = self.u16(field)? as usize;
        self.take(len, field)
    }

    pub(crate) fn u16_prefixed_utf8(&mut self, field: &str) -> Result<&'a str> {
        let bytes = self.u16_prefixed(field)?;
        std::str::from_utf8(bytes)
            .map_err(|_| Error::malformed(format!("{}: {field} is not valid UTF-8", self.what)))
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
}

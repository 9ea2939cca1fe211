//! The byte stream the CSV parser reads: the sniffed sample followed by the
//! rest of the file, transcoded to UTF-8 unless it already is UTF-8.

use std::io::{self, Chain, Cursor, Read};

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use crate::limits::CountingReader;

type Prefixed<R> = Chain<Cursor<Vec<u8>>, CountingReader<R>>;

pub(crate) enum Source<R: Read> {
    /// UTF-8 passes through unchanged. The row reader checks each field, so
    /// invalid bytes after the sample reject their row instead of turning into
    /// replacement characters.
    Utf8(Prefixed<R>),
    /// Any other encoding, transcoded to UTF-8 in a streaming fashion.
    Transcoded(DecodeReaderBytes<Prefixed<R>, Vec<u8>>),
}

impl<R: Read> Source<R> {
    /// Builds the stream from the sample (without its byte-order mark) and the
    /// unread rest of the file.
    pub(crate) fn new(
        sample: Vec<u8>,
        rest: CountingReader<R>,
        encoding: &'static Encoding,
    ) -> Self {
        let prefixed = Cursor::new(sample).chain(rest);
        if encoding == UTF_8 {
            return Source::Utf8(prefixed);
        }
        // An explicit encoding turns off the decoder's own byte-order mark
        // handling, which is right because the mark was already removed.
        let decoder = DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .build(prefixed);
        Source::Transcoded(decoder)
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Utf8(reader) => reader.read(buf),
            Source::Transcoded(reader) => reader.read(buf),
        }
    }
}

//! kcodec codecs (work in progress).

//! Loki's push API message (`package logproto`, `pkg/push/push.proto`):
//! what Promtail, Alloy and Loki clients send to `/loki/api/v1/push` with
//! `Content-Type: application/x-protobuf`, snappy-compressed (block format).
//!
//! Field numbers follow upstream; `EntryAdapter.timestamp` is a
//! `google.protobuf.Timestamp`, written here as [`Timestamp`] so the crate
//! needs no `prost-types`.

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one stream, its labels as a selector text
/// (`{app="api", env="prod"}`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// The sender's hash of the labels; unused by receivers.
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.LabelPairAdapter`: one structured-metadata pair.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `logproto.EntryAdapter`: one line.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The field numbers, pinned with bytes written by hand from
    /// push.proto: streams=1; labels=1, entries=2, hash=3; timestamp=1,
    /// line=2, structuredMetadata=3; seconds=1, nanos=2.
    #[test]
    fn wire_bytes() {
        let req = PushRequest {
            streams: vec![StreamAdapter {
                labels: "{a=\"b\"}".into(),
                entries: vec![EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1,
                        nanos: 2,
                    }),
                    line: "x".into(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "k".into(),
                        value: "v".into(),
                    }],
                }],
                hash: 5,
            }],
        };
        let entry: &[u8] = &[
            0x0a, 4, 0x08, 1, 0x10, 2, // timestamp {seconds: 1, nanos: 2}
            0x12, 1, b'x', // line
            0x1a, 6, 0x0a, 1, b'k', 0x12, 1, b'v', // structuredMetadata
        ];
        let mut stream = vec![0x0a, 7];
        stream.extend_from_slice(b"{a=\"b\"}");
        stream.push(0x12);
        stream.push(entry.len() as u8);
        stream.extend_from_slice(entry);
        stream.extend_from_slice(&[0x18, 5]);
        let mut want = vec![0x0a, stream.len() as u8];
        want.extend_from_slice(&stream);
        assert_eq!(req.encode_to_vec(), want);
        assert_eq!(PushRequest::decode(&want[..]).unwrap(), req);
    }
}

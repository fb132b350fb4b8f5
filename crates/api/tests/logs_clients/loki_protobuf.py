"""A protobuf push as Promtail sends it, made with requests + protobuf +
python-snappy: Loki's push.proto (package logproto) built with protobuf's
descriptor API, snappy block-compressed. Usage: loki_protobuf.py BASE_URL
NOW_NS. Prints the status and body of each request, one per line."""
import json
import sys

import requests
import snappy
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

F = descriptor_pb2.FieldDescriptorProto


def build():
    fd = descriptor_pb2.FileDescriptorProto(
        name="push.proto", package="logproto", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"])

    def msg(name, fields):
        m = fd.message_type.add(name=name)
        for fname, num, typ, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                f.type_name = tname

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("PushRequest", [("streams", 1, F.TYPE_MESSAGE, rep, ".logproto.StreamAdapter")])
    msg("StreamAdapter", [
        ("labels", 1, F.TYPE_STRING, opt, None),
        ("entries", 2, F.TYPE_MESSAGE, rep, ".logproto.EntryAdapter"),
        ("hash", 3, F.TYPE_UINT64, opt, None)])
    msg("LabelPairAdapter", [
        ("name", 1, F.TYPE_STRING, opt, None), ("value", 2, F.TYPE_STRING, opt, None)])
    msg("EntryAdapter", [
        ("timestamp", 1, F.TYPE_MESSAGE, opt, ".google.protobuf.Timestamp"),
        ("line", 2, F.TYPE_STRING, opt, None),
        ("structuredMetadata", 3, F.TYPE_MESSAGE, rep, ".logproto.LabelPairAdapter")])
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


PushRequest = build()
base, now = sys.argv[1], int(sys.argv[2])


def push(streams, tenant=None):
    req = PushRequest()
    for labels, entries in streams:
        s = req.streams.add(labels=labels)
        for ts, line, meta in entries:
            e = s.entries.add(line=line)
            e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 10**9)
            for k, v in meta:
                e.structuredMetadata.add(name=k, value=v)
    headers = {"Content-Type": "application/x-protobuf"}
    if tenant:
        headers["X-Scope-OrgID"] = tenant
    r = requests.post(base + "/loki/api/v1/push", data=snappy.compress(req.SerializeToString()),
                      headers=headers, timeout=10)
    print(json.dumps([r.status_code, r.text]))


push([('{job="proto", env="prod"}', [
    (now, "first line", [("trace_id", "0af7651916cd43dd8448eb211c80319c")]),
    (now + 1, "second line", []),
    (now + 1, "second line", []),  # an exact duplicate: dropped
])])
# One valid stream, one with 16 label names (Loki's limit is 15).
many = ", ".join('l%02d="v"' % i for i in range(16))
push([('{job="proto", env="dev"}', [(now, "kept", [])]), ("{%s}" % many, [(now, "refused", [])])],
     tenant="team-a")

#!/usr/bin/python3
"""Read `distributions` the way a Python user would: Confluent's Python client under read_committed, values decoded
from Confluent's wire format through the registry's Confluent API.

Used by the command line's OwnDataEndToEndIT with Debian's packages (python3-confluent-kafka, python3-avro,
python3-requests; .ci/install-system-packages installs them). Debian's confluent-kafka 1.7 has no fastavro, so
its `schema_registry.avro.AvroDeserializer` (the README's snippet) cannot load; its `avro` package's
MessageSerializer decodes the same bytes. Keys are plain strings (not Avro), so values only are decoded.

Reads from the earliest offset until every document in --expected (a JSON file: {"<document_id>": annotators})
has a distribution of --task with that many annotators (latest version per document), or --timeout-s passes; writes each document's latest distribution as
one JSON object per line to --out ({"document_id", "annotators", "version", "methods": {name: {"distribution",
"nll", "l1", "example_f1"}}}). Exits 0 when all were seen, 1 (naming what is missing) otherwise.
"""
import argparse
import json
import sys
import time

try:
    from confluent_kafka import Consumer
    from confluent_kafka.avro import CachedSchemaRegistryClient
    from confluent_kafka.avro.serializer.message_serializer import MessageSerializer
except ImportError as e:  # the packages are missing: say which and how to get them
    sys.exit("read_distributions: %s (install python3-confluent-kafka python3-avro python3-requests, "
             "e.g. .ci/install-system-packages)" % e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--registry-url", required=True, help="the Confluent API, e.g. http://host:8081/apis/ccompat/v7")
    parser.add_argument("--task", required=True)
    parser.add_argument("--expected", required=True, help='JSON file {"<document_id>": annotator count to wait for}')
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args()

    with open(args.expected, encoding="utf-8") as f:
        wanted = json.load(f)
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": args.registry_url}))
    consumer = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": "own-data-e2e",
                         "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                         "enable.auto.commit": False})
    consumer.subscribe(["distributions"])
    latest = {}
    deadline = time.monotonic() + args.timeout_s
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                print("consumer: %s" % msg.error(), file=sys.stderr)
                continue
            d = serializer.decode_message(msg.value(), is_key=False)
            if d["task"] != args.task:
                continue
            known = latest.get(d["document_id"])
            if known is None or d["version"] >= known["version"]:
                latest[d["document_id"]] = {
                    "document_id": d["document_id"], "annotators": d["annotators"], "version": d["version"],
                    "methods": {name: {"distribution": m["distribution"], "nll": m["nll"], "l1": m["l1"],
                                       "example_f1": m["example_f1"]} for name, m in d["methods"].items()}}
            if not missing(wanted, latest):
                break
    finally:
        consumer.close()
    with open(args.out, "w", encoding="utf-8") as f:
        for d in latest.values():
            f.write(json.dumps(d) + "\n")
    late = missing(wanted, latest)
    if late:
        sys.exit("read_distributions: within %.0f s no distribution with the expected annotators for %s "
                 "(expected %s, seen %s)" % (args.timeout_s, ", ".join(late), wanted,
                                             {doc: latest[doc]["annotators"] for doc in sorted(latest)}))
    print("read_distributions: %d documents, each with its expected annotators" % len(wanted))


def missing(wanted, latest):
    """The documents whose latest distribution does not count the annotators expected of it yet."""
    return sorted(doc for doc, n in wanted.items() if doc not in latest or latest[doc]["annotators"] != n)


if __name__ == "__main__":
    main()

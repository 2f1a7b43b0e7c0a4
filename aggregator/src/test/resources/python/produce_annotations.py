#!/usr/bin/python3
"""Produce annotations to Kafka the way a Python user would: Confluent's Python client (librdkafka, its default
partitioner, CRC32 of the key) and Confluent's Avro serializer through the registry's Confluent API.

Used by the aggregator's PythonClientAnnotationsTest (Debian packages python3-confluent-kafka, python3-avro,
python3-requests; .ci/install-system-packages installs them). Reads one annotation per line of --input as JSON
({"document_id", "task", "annotator_id", "labels", "annotated_at" in epoch ms}), keys each record by its
document_id, waits (bounded) until every record is acknowledged, and writes {"<document_id>": partition, ...}
to --partitions-out. Exits non-zero with a one-line reason on any error.
"""
import argparse
import datetime
import json
import sys

try:
    from confluent_kafka import Producer
    from confluent_kafka.avro import CachedSchemaRegistryClient, loads
    from confluent_kafka.avro.serializer.message_serializer import MessageSerializer
except ImportError as e:  # the packages are missing: say which and how to get them
    sys.exit("produce_annotations: %s (install python3-confluent-kafka python3-avro python3-requests, "
             "e.g. .ci/install-system-packages)" % e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--registry-url", required=True, help="the Confluent API, e.g. http://host:8081/apis/ccompat/v7")
    parser.add_argument("--topic", default="annotations")
    parser.add_argument("--schema", required=True, help="file with the Annotation Avro schema (JSON)")
    parser.add_argument("--input", required=True, help="JSON lines, one annotation each")
    parser.add_argument("--partitions-out", required=True)
    parser.add_argument("--timeout-s", type=float, default=60.0, help="longest wait for the acknowledgements")
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = loads(f.read())
    serializer = MessageSerializer(CachedSchemaRegistryClient({"url": args.registry_url}))
    # Nothing about partitioning is configured: librdkafka's default partitioner is what a user gets.
    producer = Producer({"bootstrap.servers": args.bootstrap_servers, "acks": "all",
                         "enable.idempotence": True, "message.timeout.ms": int(args.timeout_s * 1000)})

    partitions = {}
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append("%s: %s" % (msg.key(), err))
        else:
            partitions[msg.key().decode("utf-8")] = msg.partition()

    sent = 0
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            a = json.loads(line)
            a["annotated_at"] = datetime.datetime.fromtimestamp(a["annotated_at"] / 1000.0, datetime.timezone.utc)
            value = serializer.encode_record_with_schema(args.topic, schema, a)
            producer.produce(args.topic, key=a["document_id"].encode("utf-8"), value=value, on_delivery=delivered)
            producer.poll(0)
            sent += 1
    left = producer.flush(args.timeout_s)
    if left:
        sys.exit("produce_annotations: %d of %d records not acknowledged within %.0f s" % (left, sent, args.timeout_s))
    if errors:
        sys.exit("produce_annotations: %d of %d records failed, first: %s" % (len(errors), sent, errors[0]))
    with open(args.partitions_out, "w", encoding="utf-8") as f:
        json.dump(partitions, f)
    print("produce_annotations: %d annotations of %d documents acknowledged" % (sent, len(partitions)))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a one-line reason instead of a traceback the test would have to read
        sys.exit("produce_annotations: %s: %s" % (type(e).__name__, e))

"""Confluent's Python client against the kcodec front end: produces keyed records with the Java
client's partitioner (murmur2_random), then reads them back with a manually assigned consumer.

argv: bootstrap topic partitions count. Prints one JSON object: {"sent": [[key, partition,
offset]...], "read": [[partition, offset, key, value, headers]...]}.
"""

import json
import sys

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING

bootstrap, topic, partitions, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
DEADLINE = 60.0

sent = []


def delivered(err, msg):
    if err is not None:
        raise SystemExit(f"delivery failed: {err}")
    sent.append([msg.key().decode(), msg.partition(), msg.offset()])


producer = Producer({
    "bootstrap.servers": bootstrap,
    "partitioner": "murmur2_random",
    "enable.idempotence": True,
    "linger.ms": 5,
})
for i in range(count):
    producer.produce(topic, key=f"user-{i}", value=f"value {i}",
                     headers=[("h", b"1"), ("h", b"2")], on_delivery=delivered)
if producer.flush(DEADLINE) != 0:
    raise SystemExit("flush timed out")

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "python-read-back",
    "enable.auto.commit": False,
})
consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
read = []
while len(read) < count:
    msg = consumer.poll(DEADLINE)
    if msg is None:
        raise SystemExit(f"no record within {DEADLINE}s after {len(read)}")
    if msg.error():
        raise SystemExit(f"consume error: {msg.error()}")
    headers = [[k, v.decode() if v is not None else None] for k, v in (msg.headers() or [])]
    read.append([msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode(), headers])
consumer.close()
print(json.dumps({"sent": sent, "read": read}))

"""Confluent's Python client in a consumer group against the kcodec front end.

argv: bootstrap topic partitions protocol ("classic" or "consumer", librdkafka's
`group.protocol`).

1. An idempotent producer with the Java client's partitioner (`murmur2_random`) writes keyed
   records; consumer "a" joins the group alone, reads them and commits.
2. Consumer "b" joins: the group rebalances until each owns half of the partitions; a second
   batch is produced and each member reads only its own partitions, from the committed offsets.
3. Both commit; each reads its committed offsets back (`committed`) and its lag as the high
   watermark (`get_watermark_offsets`) minus the committed offset. The script then prints
   {"phase": "committed", ...} and waits for a line on stdin (the test inspects the broker
   meanwhile), then "b" leaves, "a" gets every partition back, "a" closes, and the script prints
   {"phase": "done", ...}.

Every wait polls until its event happens; DEADLINE only bounds a failure.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap, topic, partitions, protocol = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
DEADLINE = 60.0
GROUP = "python-billing"


def emit(obj):
    print(json.dumps(obj), flush=True)


def produce(keys):
    """Produces `keys`; returns key -> [partition, offset] as delivered."""
    placed = {}

    def delivered(err, msg):
        if err is not None:
            raise SystemExit(f"delivery failed: {err}")
        placed[msg.key().decode()] = [msg.partition(), msg.offset()]

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "broker.address.family": "v4",
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "linger.ms": 5,
    })
    for k in keys:
        producer.produce(topic, key=k, value=f"value of {k}", on_delivery=delivered)
    if producer.flush(DEADLINE) != 0:
        raise SystemExit("flush timed out")
    return placed


class Member:
    def __init__(self, name):
        self.name = name
        self.assignment = set()
        # key -> [partition, offset, owned when read]
        self.read = {}
        self.duplicates = []
        config = {
            "bootstrap.servers": bootstrap,
            "broker.address.family": "v4",
            "group.id": GROUP,
            "client.id": f"python-{name}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
        if protocol == "consumer":
            config["group.protocol"] = "consumer"
        else:
            config.update({
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 200,
                "partition.assignment.strategy": "range",
            })
        self.consumer = Consumer(config)
        self.consumer.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke,
                                on_lost=self.on_revoke)

    def on_assign(self, consumer, tps):
        # classic with `range` is eager (the whole assignment each time); the consumer protocol
        # is incremental (what is added)
        added = {tp.partition for tp in tps}
        self.assignment = self.assignment | added if protocol == "consumer" else added

    def on_revoke(self, consumer, tps):
        # what was read from a partition about to go is committed before it goes, so its next
        # owner starts after it (the Java client's ConsumerRebalanceListener pattern)
        if tps:
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                if e.args[0].code() != -168:  # _NO_OFFSET: nothing read since the last commit
                    raise
        self.assignment -= {tp.partition for tp in tps}

    def poll(self):
        msg = self.consumer.poll(0.05)
        if msg is None:
            return
        if msg.error():
            raise SystemExit(f"{self.name}: consume error: {msg.error()}")
        key = msg.key().decode()
        if key in self.read:
            self.duplicates.append(key)
        self.read[key] = [msg.partition(), msg.offset(), msg.partition() in self.assignment]

    def commit(self):
        self.consumer.commit(asynchronous=False)

    def committed(self):
        tps = [TopicPartition(topic, p) for p in sorted(self.assignment)]
        return {tp.partition: tp.offset for tp in self.consumer.committed(tps, timeout=DEADLINE)}

    def lag(self, committed):
        """High watermark minus committed, per owned partition."""
        out = {}
        for p in sorted(self.assignment):
            _, high = self.consumer.get_watermark_offsets(TopicPartition(topic, p),
                                                          timeout=DEADLINE, cached=False)
            out[p] = [high, high - committed[p]]
        return out


def until(what, members, done):
    end = time.monotonic() + DEADLINE
    while not done():
        if time.monotonic() > end:
            state = {m.name: sorted(m.assignment) for m in members}
            raise SystemExit(f"{what}: not within {DEADLINE}s; assignments {state}")
        for m in members:
            m.poll()


everything = set(range(partitions))
a = Member("a")
until("a owns every partition", [a], lambda: a.assignment == everything)
first = [f"customer-{i}" for i in range(20)]
first_placed = produce(first)
until("a reads the first records", [a], lambda: all(k in a.read for k in first))
a.commit()

b = Member("b")
until("the partitions are split between a and b", [a, b],
      lambda: a.assignment and b.assignment and a.assignment | b.assignment == everything
      and not a.assignment & b.assignment)
second = [f"customer-{i}" for i in range(20, 60)]
second_placed = produce(second)
until("the second records are read", [a, b],
      lambda: all(k in a.read or k in b.read for k in second))
a.commit()
b.commit()

report = {"phase": "committed", "first": first_placed, "second": second_placed}
for m in (a, b):
    committed = m.committed()
    report[m.name] = {
        "assignment": sorted(m.assignment),
        "read": m.read,
        "duplicates": m.duplicates,
        "committed": committed,
        "lag": m.lag(committed),
    }
emit(report)
if sys.stdin.readline().strip() != "go":
    raise SystemExit("the test did not say go")

b.consumer.close()
until("a owns every partition again", [a], lambda: a.assignment == everything)
owned = sorted(a.assignment)
a.consumer.close()
emit({"phase": "done", "a": owned})

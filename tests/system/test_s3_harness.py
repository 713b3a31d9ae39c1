"""The tests' S3 server (tests/s3server.py): conditional writes are atomic there, as on S3, and not on plain moto.

Plain moto checks a condition and then writes without a lock, but the gap is a few lines of
Python, so threads racing freely hit it only now and then (a few rounds in a hundred at best).
The proofs therefore also force the interleaving: moto's backend holds a write of the raced
key until a second one arrives (or a second passes), so both requests have passed their
checks before either writes, unless the server lets only one request in at a time.
"""

import contextlib
import sys
import threading
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest
from helpers import free_port
from moto.s3.models import S3Backend
from moto.server import ThreadedMotoServer

ROUNDS, SECONDS, RACERS = 40, 5, 4
NO_RETRIES = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def plain_moto(s3_endpoint):
    """moto's own threaded server, as the tests used before. moto keeps its buckets in the process,
    so a bucket made through s3_endpoint is the same bucket here."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3(endpoint):
    """A client that reports each answer as it came (no retry hides a 500 or turns a write into a 412)."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=NO_RETRIES)


def outcome(call):
    try:
        call()
        return "200"
    except botocore.exceptions.ClientError as ex:
        return ex.response["Error"]["Code"]


def race(calls):
    """Start the calls at once on threads; their outcomes, in order."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index):
        start.wait()
        results[index] = outcome(calls[index])

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextlib.contextmanager
def writes_meet(monkeypatch, key, wait):
    """Hold moto's backend write of key until a second write of it arrives or wait seconds pass;
    yields the list of bodies actually written."""
    meet, written, original = threading.Barrier(2), [], S3Backend.put_object

    def put_object(self, bucket_name, key_name, value, *args, **kwargs):
        if key_name == key:
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait(wait)
        answer = original(self, bucket_name, key_name, value, *args, **kwargs)
        if key_name == key:
            written.append(bytes(value))
        return answer

    with monkeypatch.context() as patch:
        patch.setattr(S3Backend, "put_object", put_object)
        yield written


def conditions(client, bucket, key, kind):
    """The condition racing writers send: create-only, or replace-only-at-this-version."""
    if kind == "IfNoneMatch":
        return {"IfNoneMatch": "*"}
    return {"IfMatch": client.put_object(Bucket=bucket, Key=key, Body=b"first")["ETag"]}


def conditional_puts(client, bucket, key, condition, count):
    def writer(body):
        return lambda: client.put_object(Bucket=bucket, Key=key, Body=body, **condition)
    return [writer(f"writer {index}".encode()) for index in range(count)]


@pytest.mark.parametrize("kind", ["IfNoneMatch", "IfMatch"])
def test_plain_moto_lets_two_conditional_puts_both_write(plain_moto, bucket, monkeypatch, kind):
    client = s3(plain_moto)
    condition = conditions(client, bucket, "raced", kind)
    with writes_meet(monkeypatch, "raced", wait=10) as written:
        answers = race(conditional_puts(client, bucket, "raced", condition, 2))
    # both passed the check and both wrote (a writer may even be told 500 after writing:
    # the other's write closed its object's buffer); S3 would have refused one with 412
    assert len(written) == 2, (written, answers)
    assert "PreconditionFailed" not in answers


@pytest.mark.parametrize("kind", ["IfNoneMatch", "IfMatch"])
def test_harness_lets_one_conditional_put_write(s3_endpoint, bucket, monkeypatch, kind):
    client = s3(s3_endpoint)
    condition = conditions(client, bucket, "raced", kind)
    with writes_meet(monkeypatch, "raced", wait=1) as written:
        answers = race(conditional_puts(client, bucket, "raced", condition, 2))
    assert sorted(answers) == ["200", "PreconditionFailed"]
    assert len(written) == 1
    assert client.get_object(Bucket=bucket, Key="raced")["Body"].read() == written[0]


@pytest.fixture
def fast_switching():
    """Let threads take turns every few microseconds, so the server's requests interleave finely."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("kind", ["IfNoneMatch", "IfMatch"])
def test_racing_conditional_puts_one_wins_each_round(s3_endpoint, bucket, fast_switching, kind):
    client, deadline, rounds = s3(s3_endpoint), time.monotonic() + SECONDS, 0
    while rounds < ROUNDS and time.monotonic() < deadline:
        key = f"raced-{uuid.uuid4().hex}"
        condition = conditions(client, bucket, key, kind)
        calls = conditional_puts(client, bucket, key, condition, RACERS)
        answers = race(calls)
        assert sorted(answers) == ["200"] + ["PreconditionFailed"] * (RACERS - 1), answers
        winner = f"writer {answers.index('200')}".encode()
        assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == winner
        rounds += 1
    assert rounds


def test_racing_conditional_delete_and_put_one_wins(s3_endpoint, bucket, fast_switching):
    client, deadline, rounds = s3(s3_endpoint), time.monotonic() + SECONDS, 0
    while rounds < ROUNDS and time.monotonic() < deadline:
        etag = client.put_object(Bucket=bucket, Key="raced", Body=b"first")["ETag"]
        deleted, replaced = race([
            lambda etag=etag: client.delete_object(Bucket=bucket, Key="raced", IfMatch=etag),
            lambda etag=etag: client.put_object(Bucket=bucket, Key="raced", Body=b"new", IfMatch=etag)])
        if deleted == "200":  # (a conditional PUT finding no object is told 404, on S3 too)
            assert replaced in ("PreconditionFailed", "NoSuchKey"), replaced
            assert outcome(lambda: client.head_object(Bucket=bucket, Key="raced")) == "404"
        else:
            assert (deleted, replaced) == ("PreconditionFailed", "200")
            assert client.get_object(Bucket=bucket, Key="raced")["Body"].read() == b"new"
        rounds += 1
    assert rounds


def test_plain_requests_still_work(s3_endpoint, bucket):
    client = s3(s3_endpoint)
    client.put_object(Bucket=bucket, Key="a/one.txt", Body=b"one")
    client.put_object(Bucket=bucket, Key="a/one.txt", Body=b"one again")  # unconditional: replaces
    assert client.get_object(Bucket=bucket, Key="a/one.txt")["Body"].read() == b"one again"
    upload = client.create_multipart_upload(Bucket=bucket, Key="a/big.bin")["UploadId"]
    parts = [{"PartNumber": number, "ETag": client.upload_part(
        Bucket=bucket, Key="a/big.bin", UploadId=upload, PartNumber=number, Body=body)["ETag"]}
        for number, body in ((1, b"x" * 5 * 1024 * 1024), (2, b"tail"))]
    client.complete_multipart_upload(Bucket=bucket, Key="a/big.bin", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
    client.copy_object(Bucket=bucket, Key="b/one.txt", CopySource={"Bucket": bucket, "Key": "a/one.txt"})
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert {(item["Key"], item["Size"]) for item in listed} == {
        ("a/one.txt", 9), ("a/big.bin", 5 * 1024 * 1024 + 4), ("b/one.txt", 9)}
    client.delete_object(Bucket=bucket, Key="a/one.txt")
    assert outcome(lambda: client.head_object(Bucket=bucket, Key="a/one.txt")) == "404"
    assert client.get_object(Bucket=bucket, Key="b/one.txt")["Body"].read() == b"one again"


def copy_if_absent(client, bucket, source, target):
    return outcome(lambda: client.copy_object(Bucket=bucket, Key=target, IfNoneMatch="*",
                                              CopySource={"Bucket": bucket, "Key": source}))


def test_plain_moto_ignores_a_copys_if_none_match(plain_moto, bucket):
    # the reason the harness enforces it; if this fails, moto learned it and the harness's check can go
    client = s3(plain_moto)
    client.put_object(Bucket=bucket, Key="source", Body=b"source")
    client.put_object(Bucket=bucket, Key="taken", Body=b"taken")
    assert copy_if_absent(client, bucket, "source", "taken") == "200"
    assert client.get_object(Bucket=bucket, Key="taken")["Body"].read() == b"source"


def test_copy_with_if_none_match_refuses_an_existing_target(s3_endpoint, bucket):
    client = s3(s3_endpoint)
    client.put_object(Bucket=bucket, Key="source", Body=b"source")
    client.put_object(Bucket=bucket, Key="taken", Body=b"taken")
    assert copy_if_absent(client, bucket, "source", "taken") == "PreconditionFailed"
    assert client.get_object(Bucket=bucket, Key="taken")["Body"].read() == b"taken"
    assert copy_if_absent(client, bucket, "source", "free") == "200"
    assert client.get_object(Bucket=bucket, Key="free")["Body"].read() == b"source"
    assert copy_if_absent(client, bucket, "missing", "elsewhere") == "NoSuchKey"


def test_racing_copies_and_puts_onto_one_name_one_wins(s3_endpoint, bucket, fast_switching):
    client, deadline, rounds = s3(s3_endpoint), time.monotonic() + SECONDS, 0
    for index in range(2):
        client.put_object(Bucket=bucket, Key=f"source {index}", Body=f"copy {index}".encode())
    while rounds < ROUNDS and time.monotonic() < deadline:
        target = f"target-{uuid.uuid4().hex}"
        def copy(index, target=target):
            return lambda: client.copy_object(Bucket=bucket, Key=target, IfNoneMatch="*",
                                              CopySource={"Bucket": bucket, "Key": f"source {index}"})

        answers = race([lambda target=target: client.put_object(Bucket=bucket, Key=target, Body=b"put",
                                                                IfNoneMatch="*")] + [copy(index) for index in range(2)])
        assert sorted(answers) == ["200", "PreconditionFailed", "PreconditionFailed"], answers
        expected = [b"put", b"copy 0", b"copy 1"][answers.index("200")]
        assert client.get_object(Bucket=bucket, Key=target)["Body"].read() == expected
        rounds += 1
    assert rounds

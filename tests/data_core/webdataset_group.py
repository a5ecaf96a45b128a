"""Reads kiln shards with Python's tarfile exactly as webdataset groups tar
members into samples, and prints one line per sample: the key, then
ext=sha256 of each member in tar order. Used by webdataset_compat_test.cpp.

webdataset (tariterators.group_by_keys) splits a member's basename at its
first dot: "00001234.input.npy" is key "00001234", field "input.npy"; a new
key starts a new sample.
"""
import hashlib
import json
import os
import sys
import tarfile


def samples(tar_path):
    current = None
    with tarfile.open(tar_path, mode="r|") as stream:  # streaming, as webdataset reads
        for member in stream:
            if not member.isreg():
                continue
            base = os.path.basename(member.name)
            key, ext = base.split(".", 1)
            data = stream.extractfile(member).read()
            if current is None or current["__key__"] != key:
                if current is not None:
                    yield current
                current = {"__key__": key, "fields": []}
            current["fields"].append((ext, data))
    if current is not None:
        yield current


def main():
    manifest_path = sys.argv[1]
    with open(manifest_path) as f:
        manifest = json.load(f)
    folder = os.path.dirname(manifest_path)
    count = 0
    for shard in manifest["shards"]:
        for sample in samples(os.path.join(folder, shard["tar"])):
            fields = " ".join(f"{ext}={hashlib.sha256(data).hexdigest()}" for ext, data in sample["fields"])
            print(f"{sample['__key__']} {fields}")
            count += 1
    if count != manifest["samples"]:
        sys.exit(f"read {count} samples, the manifest says {manifest['samples']}")


if __name__ == "__main__":
    main()

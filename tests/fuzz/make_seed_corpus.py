#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus: every msg_* field of the godave test
vectors as one binary file, so fuzzing starts from real, valid datagrams of
every kind. Standard library only.

usage: make_seed_corpus.py TEST_DATA_DIR CORPUS_DIR
"""
import json
import pathlib
import sys


def vector_messages(data_dir):
    messages = json.loads((data_dir / "godave-v0.0.51-messages.json").read_text())
    for field, value in sorted(messages.items()):
        if field.startswith("msg_"):
            yield field, value
    dats = json.loads((data_dir / "godave-v0.0.51-dats.json").read_text())
    for index, item in enumerate(dats):
        for field in sorted(item):
            if field.startswith("msg_"):
                yield f"dats{index:02}_{field}", item[field]


def extension_messages():
    """Our extension datagrams (docs/protocol.md, "Extensions"), built by the
    documented layout: FIND_NODES for each wanted count, NODES for a few."""
    for wanted in (1, 4, 8):
        length = max(18, 10 + 26 * wanted)
        body = bytes([64]) + (7).to_bytes(8, "little") + (0x1234).to_bytes(8, "little")
        body += bytes([wanted])
        yield f"ext_find_nodes_{wanted}", (body + bytes(length - len(body))).hex()
    for count in (0, 1, 8):
        body = bytes([65]) + (7).to_bytes(8, "little") + bytes([count])
        for i in range(count):
            address = bytes(15) + bytes([i + 1]) + (1618).to_bytes(2, "little")
            body += address + (0xA000000000000000 + i).to_bytes(8, "little")
        yield f"ext_nodes_{count}", body.hex()


def repair_seeds():
    """The repair extension's datagrams (ops 66-69, ours; codec/repair_codec.hpp)."""
    u64 = lambda value: value.to_bytes(8, "little")
    nonce = u64(0x0102030405060708)
    ranges = b"".join(u64(0x1111 * (r + 1)) + u64(r) for r in range(16))
    yield "repair_digest", bytes([66]) + nonce + bytes([16]) + ranges
    yield "repair_diff", bytes([67]) + nonce + u64(0b1010)
    items = b"".join(u64(0x10 * (i + 1) + 3) + u64(1700000000000 + i) for i in range(3))
    body = nonce + bytes([3]) + u64(0) + u64(0xFFFFFFFFFFFFFFFF) + bytes([3]) + items
    yield "repair_list", bytes([68]) + body
    yield "repair_list_ack", bytes([69]) + body


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data_dir = pathlib.Path(sys.argv[1])
    corpus_dir = pathlib.Path(sys.argv[2])
    corpus_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for name, hex_text in list(vector_messages(data_dir)) + list(extension_messages()):
        (corpus_dir / f"seed_{name}").write_bytes(bytes.fromhex(hex_text))
        count += 1
    for name, payload in repair_seeds():
        (corpus_dir / f"seed_{name}").write_bytes(payload)
        count += 1
    print(f"wrote {count} seeds to {corpus_dir}")


if __name__ == "__main__":
    main()

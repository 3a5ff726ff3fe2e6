from __future__ import annotations

from shopguard.db.chain import GENESIS, ChainLink, canonical, chain_hash, verify_chain


def build(texts: list[str]) -> list[ChainLink]:
    links, prev = [], GENESIS
    for i, t in enumerate(texts, start=1):
        h = chain_hash(prev, t)
        links.append(ChainLink(i, prev, h, t, f"entry {i}"))
        prev = h
    return links


def test_intact_chain_and_each_kind_of_tampering() -> None:
    texts = [canonical({"seq": i, "data": {"b": 1, "a": i}}) for i in range(1, 5)]
    links = build(texts)
    assert verify_chain(links, 4, links[-1].hash).ok

    edited = list(links)
    edited[1] = ChainLink(2, links[1].prev_hash, links[1].hash, texts[1].replace('"a":2', '"a":9'), "entry 2")
    rep = verify_chain(edited, 4, links[-1].hash)
    assert not rep.ok and rep.problems == ("entry 2: content changed after it was written (hash mismatch)",)

    dropped = [links[0], links[2], links[3]]
    rep = verify_chain(dropped, 4, links[-1].hash)
    assert any("entry 2 is missing" in p for p in rep.problems)

    truncated = links[:3]
    rep = verify_chain(truncated, 4, links[-1].hash, plural="entries")
    assert "the log records 4 entries but 3 are stored" in rep.problems
    assert any("newest entry is not the one" in p for p in rep.problems)


def test_canonical_json_is_order_independent() -> None:
    assert canonical({"b": 1, "a": "é"}) == canonical({"a": "é", "b": 1}) == '{"a":"é","b":1}'

#!/usr/bin/python3
"""Writes test/fixtures/signals/editops-parity.json: python-Levenshtein's editops and the
official FIGA collator's masks for a corpus of token-id sequence pairs.

Run with Debian's Python and python-Levenshtein (apt-get install -y python3-levenshtein):

    /usr/bin/python3 tools/make-editops-fixture.py

Each case holds
  y, yhat   the original and revised token ids (editops source and target);
  distance  the Levenshtein distance;
  ops       Levenshtein.editops(y, yhat) as [type, src, dst];
  good      positions of yhat that the official collator marks (targets of insert/replace);
  bad       positions of y that it marks (sources of delete/replace);
  unique    whether every optimal alignment gives the same good/bad masks (decided here
            with a forward and a backward DP over the full sequences: a position is ambiguous
            when one optimal path consumes it with a match and another with an edit).

python-Levenshtein 0.12 only takes strings, so ids are mapped to code points with chr(), as
the official code's list input effectively is (equality of ids == equality of characters).
The official collator (RUCAIBox/FIGA train.py, transform_tensor) is:

    operations = Levenshtein.editops(source.tolist(), target.tolist())
    return [i[2] for i in operations if i[0] != 'delete'], [i[1] for i in operations if i[0] != 'insert']
"""
import json
import os
import random
import sys

import Levenshtein

try:
    from importlib.metadata import version as _pkg_version
    LEV_VERSION = _pkg_version('python-Levenshtein')
except Exception:  # pragma: no cover
    LEV_VERSION = 'unknown'

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'signals', 'editops-parity.json')


def to_str(ids):
    return ''.join(map(chr, ids))


def transform(source, target):
    operations = Levenshtein.editops(to_str(source), to_str(target))
    return operations, [i[2] for i in operations if i[0] != 'delete'], [i[1] for i in operations if i[0] != 'insert']


def masks_unique(a, b, d):
    """True when all optimal alignments of a -> b give the same good/bad masks.

    F[i][j] = cost of a[:i] -> b[:j], B[i][j] = cost of a[i:] -> b[j:]. An edge u -> v lies on
    an optimal path iff F[u] + cost + B[v] == d. Only cells with |k| + |delta - k| <= d
    (k = j - i) can be on an optimal path, so both passes run in that band (cells outside
    count as infinite; values inside are exact on optimal paths and never too small).
    """
    n, m = len(a), len(b)
    delta = m - n
    klo = max(-((d - delta) // 2), -n)  # ceil((delta - d) / 2)
    khi = min((delta + d) // 2, m)  # floor((delta + d) / 2)
    INF = 1 << 30

    def jrange(i):
        return max(0, i + klo), min(m, i + khi)

    def get(T, i, j):
        if i < 0 or i > n:
            return INF
        lo, row = T[i]
        if lo <= j < lo + len(row):
            return row[j - lo]
        return INF

    F = [None] * (n + 1)
    for i in range(n + 1):
        lo, hi = jrange(i)
        row = [INF] * (hi - lo + 1)
        F[i] = (lo, row)
        for j in range(lo, hi + 1):
            if i == 0:
                v = j
            else:
                v = get(F, i - 1, j) + 1  # delete a[i-1]
                if j > 0:
                    v = min(v, get(F, i - 1, j - 1) + (0 if a[i - 1] == b[j - 1] else 1))
                if j > lo:
                    v = min(v, row[j - 1 - lo] + 1)  # insert b[j-1]
                elif j == 0:
                    v = i
            row[j - lo] = v
    Bk = [None] * (n + 1)
    for i in range(n, -1, -1):
        lo, hi = jrange(i)
        row = [INF] * (hi - lo + 1)
        Bk[i] = (lo, row)
        for j in range(hi, lo - 1, -1):
            if i == n:
                v = m - j
            else:
                v = get(Bk, i + 1, j) + 1  # delete a[i]
                if j < m:
                    v = min(v, get(Bk, i + 1, j + 1) + (0 if a[i] == b[j] else 1))
                if j < hi:
                    v = min(v, row[j + 1 - lo] + 1)  # insert b[j]
                elif j == m:
                    v = n - i
            row[j - lo] = v

    good_match = [False] * m
    good_edit = [False] * m
    bad_match = [False] * n
    bad_edit = [False] * n
    for i in range(n + 1):
        lo, hi = jrange(i)
        for j in range(lo, hi + 1):
            f = get(F, i, j)
            if f >= INF:
                continue
            if j < m and f + 1 + get(Bk, i, j + 1) == d:  # insert b[j]
                good_edit[j] = True
            if i < n and f + 1 + get(Bk, i + 1, j) == d:  # delete a[i]
                bad_edit[i] = True
            if i < n and j < m:
                c = 0 if a[i] == b[j] else 1
                if f + c + get(Bk, i + 1, j + 1) == d:
                    if c == 0:
                        good_match[j] = True
                        bad_match[i] = True
                    else:
                        good_edit[j] = True
                        bad_edit[i] = True
    assert get(F, n, m) == d and get(Bk, 0, 0) == d, 'band DP disagrees with Levenshtein.distance'
    return not any(good_match[j] and good_edit[j] for j in range(m)) and not any(bad_match[i] and bad_edit[i] for i in range(n))


def mutate(rng, seq, rate, alphabet):
    out = []
    for x in seq:
        r = rng.random()
        if r < rate / 3:
            continue  # delete
        elif r < 2 * rate / 3:
            out.append(rng.randrange(alphabet))  # replace (may pick the same id)
        elif r < rate:
            out.append(x)
            out.append(rng.randrange(alphabet))  # insert after
        else:
            out.append(x)
    return out


SENTENCES = [
    "The capital of France is Paris , which is known for the Eiffel Tower .",
    "To make a cup of tea , boil water , add the tea bag and wait three minutes .",
    "Photosynthesis is the process by which plants convert light energy into chemical energy .",
    "The function returns the sum of the two numbers passed as arguments .",
    "Regular exercise improves cardiovascular health and reduces stress .",
    "Water boils at 100 degrees Celsius at sea level .",
    "Shakespeare wrote many plays , including Hamlet , Macbeth and Othello .",
    "A prime number has exactly two distinct divisors : one and itself .",
    "The mitochondria is the powerhouse of the cell .",
    "Machine learning models learn patterns from data rather than explicit rules .",
    "The Great Wall of China is visible from many places but not easily from space .",
    "In 1969 , Apollo 11 landed on the Moon and Neil Armstrong walked on its surface .",
    "Sorting algorithms such as quicksort and mergesort run in n log n time on average .",
    "To stay healthy , drink enough water , sleep well and eat vegetables every day .",
    "The answer is 42 because the question was never clearly stated .",
    "First , preheat the oven . Then , mix the flour , eggs and sugar in a bowl .",
]

SYNONYMS = {
    "known": "famous", "make": "prepare", "boil": "heat", "wait": "steep", "improves": "boosts",
    "reduces": "lowers", "wrote": "authored", "many": "several", "learn": "infer", "visible": "seen",
    "walked": "stepped", "run": "execute", "eat": "consume", "mix": "combine", "returns": "gives",
    "process": "mechanism", "easily": "readily", "clearly": "properly", "average": "typical",
}
FILLERS = ["very", "also", "actually", "in fact", "however ,", "of course", "the", "a", "really", "basically"]


def word_ids(words, vocab, subword):
    ids = []
    for w in words:
        pieces = [w[k:k + 3] for k in range(0, len(w), 3)] if subword else [w]
        for k, p in enumerate(pieces):
            key = ('' if k == 0 else '##') + p
            if key not in vocab:
                vocab[key] = 100 + len(vocab) * 7  # sparse ids, like a real vocabulary
            ids.append(vocab[key])
    return ids


def realistic(rng, vocab, n_sent, edits, subword):
    sents = [rng.choice(SENTENCES) for _ in range(n_sent)]
    words = ' '.join(sents).split(' ')
    revised = list(words)
    for _ in range(edits):
        kind = rng.choice(['synonym', 'insert', 'delete', 'swap', 'typo', 'duplicate', 'drop_clause'])
        if not revised:
            break
        p = rng.randrange(len(revised))
        if kind == 'synonym':
            w = revised[p]
            revised[p] = SYNONYMS.get(w, w + 's')
        elif kind == 'insert':
            revised[p:p] = rng.choice(FILLERS).split(' ')
        elif kind == 'delete':
            del revised[p]
        elif kind == 'swap' and p + 1 < len(revised):
            revised[p], revised[p + 1] = revised[p + 1], revised[p]
        elif kind == 'typo':
            w = revised[p]
            revised[p] = w[:-1] if len(w) > 1 else w + w
        elif kind == 'duplicate':
            span = revised[p:p + rng.randint(1, 4)]
            revised[p:p] = span
        elif kind == 'drop_clause':
            del revised[p:p + rng.randint(2, 6)]
    return word_ids(words, vocab, subword), word_ids(revised, vocab, subword)


def main():
    rng = random.Random(20240229)
    cases = []

    def add(name, y, yhat):
        ops, good, bad = transform(y, yhat)
        d = Levenshtein.distance(to_str(y), to_str(yhat))
        assert d == len(ops)
        cases.append({
            'name': name,
            'y': y,
            'yhat': yhat,
            'distance': d,
            'ops': [[o[0], o[1], o[2]] for o in ops],
            'good': sorted(set(good)),
            'bad': sorted(set(bad)),
            'unique': masks_unique(y, yhat, d),
        })

    # empty and trivial
    add('empty/both', [], [])
    add('empty/original', [], [5, 6, 7])
    add('empty/revised', [5, 6, 7], [])
    add('identical', [1, 2, 3, 4], [1, 2, 3, 4])
    add('single/replace', [7], [8])
    add('single/same', [7], [7])
    add('eos/appended-both', [10, 11, 12, 2], [10, 13, 12, 2])
    add('eos/ids-above-bmp', [70000, 1114111, 5], [70001, 1114111, 5])
    add('eos/surrogate-range-ids', [0xD800, 0xDBFF, 0xDC00, 0xDFFF], [0xDBFF, 0xD800, 0xDFFF])

    # random with controlled edit rates, small alphabets for ties
    for alphabet in (1, 2, 3, 4, 8, 50, 32000):
        for rate in (0.0, 0.05, 0.15, 0.3, 0.5, 0.8, 1.0):
            for length in (1, 3, 8, 20, 60, 150):
                y = [rng.randrange(alphabet) for _ in range(length)]
                add(f'random/a{alphabet}/r{rate}/n{length}', y, mutate(rng, y, rate, alphabet))

    # unrelated sequences
    for alphabet in (2, 4, 26, 1000):
        for _ in range(6):
            y = [rng.randrange(alphabet) for _ in range(rng.randint(0, 40))]
            yhat = [rng.randrange(alphabet) for _ in range(rng.randint(0, 40))]
            add(f'unrelated/a{alphabet}', y, yhat)

    # repeats: runs and periodic sequences, many equivalent alignments
    for period in (1, 2, 3, 5):
        for _ in range(5):
            y = [k % period + 10 for k in range(rng.randint(5, 60))]
            add(f'repeat/p{period}', y, mutate(rng, y, 0.2, period + 11))
    for _ in range(10):
        y = [rng.choice([1, 1, 1, 2]) for _ in range(rng.randint(10, 50))]
        add('repeat/runs', y, mutate(rng, y, 0.25, 3))
    for _ in range(6):
        phrase = [rng.randrange(30) for _ in range(rng.randint(2, 6))]
        y = phrase * rng.randint(3, 8)
        yhat = phrase * rng.randint(2, 9)
        add('repeat/phrase-count', y, yhat)

    # long sequences
    for rate in (0.0, 0.01, 0.05, 0.15, 0.3, 0.5):
        y = [rng.randrange(32000) for _ in range(2000)]
        add(f'long/a32000/r{rate}', y, mutate(rng, y, rate, 32000))
    y = [rng.randrange(4) for _ in range(2000)]
    add('long/a4/r0.1', y, mutate(rng, y, 0.1, 4))
    add('long/unrelated', [rng.randrange(32000) for _ in range(2000)], [rng.randrange(32000) for _ in range(1900)])
    y = [rng.randrange(32000) for _ in range(1500)]
    add('long/prefix-suffix', y, y[:700] + [1, 2, 3] + y[710:])

    # realistic word- and subword-level edits of English text
    vocab = {}
    for subword in (False, True):
        for _ in range(40):
            y, yhat = realistic(rng, vocab, rng.randint(1, 6), rng.randint(0, 8), subword)
            add(f'text/{"subword" if subword else "word"}', y, yhat)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        f.write('{\n')
        f.write(' "generator": "tools/make-editops-fixture.py",\n')
        f.write(f' "pythonLevenshtein": {json.dumps(LEV_VERSION)},\n')
        f.write(f' "python": {json.dumps(sys.version.split()[0])},\n')
        f.write(' "cases": [\n')
        f.write(',\n'.join('  ' + json.dumps(c, separators=(',', ':')) for c in cases))
        f.write('\n ]\n}\n')
    unique = sum(1 for c in cases if c['unique'])
    print(f'wrote {len(cases)} cases ({unique} with unique masks) to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()

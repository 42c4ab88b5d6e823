#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Greedy question-answer evaluation of an exported demo model (torch, 1 thread).

For a seeded sample of training words, of validation words and of the 20
held-out words it asks "What does 'X' mean?" and scores the greedy answer
against the WordNet gloss used in training (first sense): `exact` = the
answer contains the first definition verbatim, `f1` = word-overlap F1 between
answer (minus the "'X' means" frame) and that definition. It also checks
arithmetic on validation facts and training facts.

  /usr/bin/python3 evaluate.py [--model ../../resources/models/demo] [--n 100]
"""

import argparse
import json
import os
import random
import re
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import griffin_torch as G  # noqa: E402
import train as T  # noqa: E402


def words(s):
    return re.findall(r"[a-z0-9]+", s.lower())


def f1(pred, ref):
    p, r = words(pred), words(ref)
    if not p or not r:
        return 0.0
    common = 0
    rc = list(r)
    for w in p:
        if w in rc:
            rc.remove(w)
            common += 1
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(r)
    return 2 * prec * rec / (prec + rec)


def strip_frame(ans, w):
    a = re.sub(r"^.*?\bmeans?\b|^.*?\bmeaning\b", "", ans, count=1)
    return a.replace(w, " ")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "resources", "models", "demo"))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", help="write the detailed results here")
    args = ap.parse_args()
    results = run_eval(args.model, args.out, args.n, args.seed)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    for r in results["train"]["rows"][:8]:
        print(f"  {r['word']}: {r['answer']!r}  [gloss: {r['gloss']}]")


def run_eval(model_dir, out_dir, n=100, seed=7):
    """Returns {"train"|"validation"|"heldout": {n, exact, f1, rows},
    "arithmetic_validation"|"arithmetic_train": {n, accuracy}, "arithmetic_rows"}."""
    model = G.load_model(model_dir)
    tok = T.Tok(os.path.join(model_dir, "tokenizer.model"))
    d = os.path.join(out_dir, "data")
    rng = random.Random(seed)

    def meaning_items(path):
        items = {}
        for ln in open(path):
            it = json.loads(ln)
            if it["kind"] == "meaning" and "word" in it and it["word"] not in items:
                items[it["word"]] = it
        return items

    train_items = meaning_items(os.path.join(d, "chat_train.jsonl"))
    val_items = meaning_items(os.path.join(d, "chat_val.jsonl"))
    held = json.load(open(os.path.join(d, "heldout_words.json")))["words"]
    ref = {}
    import prepare_data as P
    synsets, index, counts = P.load_synsets(), P.load_index(), P.load_counts()
    for w in list(train_items) + list(val_items) + [h["word"] for h in held]:
        pos = counts[w].most_common(1)[0][0]
        ss = [synsets[k] for k in index[w][pos] if synsets[k].defs][0]
        ref[w] = ss.defs[0]

    groups = {
        "train": rng.sample(sorted(train_items), min(n, len(train_items))),
        "validation": rng.sample(sorted(val_items), min(n, len(val_items))),
        "heldout": [h["word"] for h in held],
    }
    results = {}
    for name, ws in groups.items():
        rows = []
        for w in ws:
            q = f"What does '{w}' mean?"
            ans = tok.decode(T.greedy(model, tok.chat_prompt(q), max_new=60, stop=(1, tok.eot)))
            rows.append({"word": w, "answer": ans, "gloss": ref[w], "exact": ref[w].lower() in ans.lower(),
                         "f1": f1(strip_frame(ans, w), ref[w])})
        ex = sum(r["exact"] for r in rows) / len(rows)
        mf = sum(r["f1"] for r in rows) / len(rows)
        results[name] = {"n": len(rows), "exact": ex, "f1": mf, "rows": rows}
        print(f"{name}: n={len(rows)} exact={ex:.3f} f1={mf:.3f}")
    # arithmetic
    arith = []
    for path, split in ((os.path.join(d, "chat_val.jsonl"), "validation"), (os.path.join(d, "chat_train.jsonl"), "train")):
        items = [json.loads(ln) for ln in open(path)]
        items = [it for it in items if it["kind"] == "arithmetic"]
        for it in rng.sample(items, min(50, len(items))):
            q, a = it["turns"]
            want = re.findall(r"-?\d+", a)[-1]
            ans = tok.decode(T.greedy(model, tok.chat_prompt(q), max_new=20, stop=(1, tok.eot)))
            got = re.findall(r"-?\d+", ans)
            arith.append({"split": split, "q": q, "answer": ans, "ok": bool(got) and got[-1] == want})
    for split in ("validation", "train"):
        rs = [r for r in arith if r["split"] == split]
        acc = sum(r["ok"] for r in rs) / max(1, len(rs))
        results[f"arithmetic_{split}"] = {"n": len(rs), "accuracy": acc}
        print(f"arithmetic {split}: n={len(rs)} accuracy={acc:.3f}")
    results["arithmetic_rows"] = arith
    return results


if __name__ == "__main__":
    main()

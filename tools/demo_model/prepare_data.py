#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the demo model's training data from WordNet 3.0 (Debian wordnet-base).

Stages (all deterministic for a given --seed):
  1. text:      WordNet -> pretraining sentences and chat (instruction) examples,
                split into train / validation, plus the 20 held-out words.
  2. tokenizer: spm_train (BPE, byte fallback, Gemma-like special ids) on the
                training text -> OUT/tokenizer.model.
  3. encode:    spm_encode every text segment, build id sequences exactly as the
                C++ ChatTemplate does, pack them into fixed-length rows with
                segment positions and loss masks -> OUT/data/*.pt.

Usage:  /usr/bin/python3 prepare_data.py [--out out] [--seed 1234]

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
Used under the WordNet 3.0 licence (permits use, copying, modification and
redistribution with the copyright notice; see LICENSE-WordNet.txt here).
"""

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys

WORDNET = "/usr/share/wordnet"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
POS_NAME = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}
WORDNET_LICENSE = """
This software and database is being provided to you, the LICENSEE, by
Princeton University under the following license.  By obtaining, using
and/or copying this software and database, you agree that you have
read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and
database and its documentation for any purpose and without fee or
royalty is hereby granted, provided that you agree to comply with
the following copyright notice and statements, including the disclaimer,
and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal
use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR
IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON
UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT-
ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT
INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR
OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in
advertising or publicity pertaining to distribution of the software
and/or database.  Title to copyright in this software, database and
any associated documentation shall at all times remain with
Princeton University and LICENSEE agrees to preserve same.
"""

SS_TYPE_NUM = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}

# ----------------------------------------------------------------------------
# WordNet parsing
# ----------------------------------------------------------------------------


class Synset:
    __slots__ = ("key", "pos", "words", "ptrs", "defs", "examples")

    def __init__(self, key, pos, words, ptrs, defs, examples):
        self.key = key          # (file pos letter, offset)
        self.pos = pos          # n v a s r
        self.words = words      # list of lemma strings (underscores -> spaces)
        self.ptrs = ptrs        # list of (symbol, target key, source word#, target word#)
        self.defs = defs        # list of definition strings
        self.examples = examples  # list of example strings


def clean_word(w):
    w = re.sub(r"\((a|p|ip)\)$", "", w)  # adjective position markers
    return w.replace("_", " ")


def parse_gloss(gloss):
    gloss = gloss.strip()
    examples = [e.strip() for e in re.findall(r'"([^"]+)"', gloss)]
    head = gloss.split('"', 1)[0]
    defs = [d.strip(" ;,:") for d in head.split(";")]
    defs = [d for d in defs if d]
    examples = [e for e in examples if len(e) > 3]
    return defs, examples


def load_synsets():
    synsets = {}
    for letter, name in POS_FILES.items():
        with open(os.path.join(WORDNET, "data." + name), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue  # licence header
                head, _, gloss = line.partition(" | ")
                parts = head.split()
                offset, ss_type = parts[0], parts[2]
                wcnt = int(parts[3], 16)
                words = [clean_word(parts[4 + 2 * i]) for i in range(wcnt)]
                i = 4 + 2 * wcnt
                pcnt = int(parts[i])
                ptrs = []
                for j in range(pcnt):
                    sym, toff, tpos, st = parts[i + 1 + 4 * j:i + 5 + 4 * j]
                    tpos = "a" if tpos == "s" else tpos
                    ptrs.append((sym, (tpos, toff), int(st[:2], 16), int(st[2:], 16)))
                defs, examples = parse_gloss(gloss)
                synsets[(letter, offset)] = Synset((letter, offset), ss_type, words, ptrs,
                                                   defs, examples)
    return synsets


def load_index():
    """lemma -> pos letter -> list of synset keys, most frequent sense first."""
    index = collections.defaultdict(dict)
    for letter, name in POS_FILES.items():
        with open(os.path.join(WORDNET, "index." + name), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                parts = line.split()
                lemma = parts[0].replace("_", " ")
                scnt = int(parts[2])
                offsets = parts[-scnt:]
                index[lemma][letter] = [(letter, o) for o in offsets]
    return index


def load_counts():
    """lemma -> pos letter -> summed semantic-concordance tag count (a frequency proxy)."""
    counts = collections.defaultdict(lambda: collections.Counter())
    with open(os.path.join(WORDNET, "cntlist.rev"), encoding="latin-1") as f:
        for line in f:
            key, _, cnt = line.split()
            lemma, _, rest = key.partition("%")
            pos = SS_TYPE_NUM[rest[0]]
            counts[lemma.replace("_", " ")][pos] += int(cnt)
    return counts


# ----------------------------------------------------------------------------
# Text helpers
# ----------------------------------------------------------------------------


def article(word):
    return "an" if word[:1].lower() in "aeiou" else "a"


def cap(s):
    return s[:1].upper() + s[1:] if s else s


def sentence(s):
    s = s.strip()
    if not s:
        return s
    if s[-1] not in ".!?":
        s += "."
    return cap(s)


def quote(rng, w):
    r = rng.random()
    if r < 0.55:
        return "'" + w + "'"
    if r < 0.75:
        return '"' + w + '"'
    return w


def word_in(example, lemma):
    return re.search(r"\b" + re.escape(lemma) + r"\w{0,3}\b", example, re.IGNORECASE) is not None


def good_lemma(w):
    return re.fullmatch(r"[a-z][a-z-]*[a-z]", w) is not None and len(w) >= 3


# ----------------------------------------------------------------------------
# Pretraining sentences
# ----------------------------------------------------------------------------


def definition_entries(rng, ss, synsets):
    """Plain-English sentences for one synset."""
    out = []
    pos = POS_NAME[ss.pos]
    w = ss.words[0]
    d = "; ".join(ss.defs)
    if d:
        form = rng.randrange(4)
        if form == 0:
            out.append(f"{w} ({pos}): {d}.")
        elif form == 1:
            out.append(f"The {pos} \"{w}\" means {d}.")
        elif form == 2:
            out.append(f"{cap(w)} means {d}.")
        else:
            out.append(f"In English, {article(pos)} {pos} \"{w}\" is used to mean {d}.")
        if len(ss.words) > 1:
            others = ss.words[1:5]
            out.append(f"Words with this meaning: {', '.join(ss.words[:5])}.")
            if rng.random() < 0.5:
                out.append(f"\"{w}\" and \"{others[0]}\" are synonyms.")
    if ss.pos == "n":
        hyp = [synsets[t] for (sym, t, _, _) in ss.ptrs if sym in ("@", "@i") and t in synsets]
        if hyp:
            out.append(f"{cap(article(w))} {w} is a kind of {hyp[0].words[0]}.")
    if ss.pos == "v":
        hyp = [synsets[t] for (sym, t, _, _) in ss.ptrs if sym == "@" and t in synsets]
        if hyp:
            out.append(f"To {w} is a way to {hyp[0].words[0]}.")
    for (sym, t, s, tw) in ss.ptrs:
        if sym == "!" and t in synsets and s >= 1 and tw >= 1:
            src = ss.words[s - 1]
            dst = synsets[t].words[tw - 1]
            out.append(f"The opposite of \"{src}\" is \"{dst}\".")
    for ex in ss.examples:
        if rng.random() < 0.5:
            out.append(sentence(ex))
        else:
            out.append(f"An example of \"{w}\": \"{ex}\".")
    return out


# ----------------------------------------------------------------------------
# Chat examples
# ----------------------------------------------------------------------------

MEANING_Q = [
    "What does {q} mean?", "What does {q} mean?", "What is the meaning of {q}?",
    "Define {q}.", "What's the definition of {q}?", "Can you tell me what {q} means?",
    "What does the word {q} mean?", "Meaning of {q}?", "I came across the word {q}. What does it mean?",
    "Explain the word {q}.", "what does {q} mean", "Please define {q}.",
    "What is meant by {q}?", "Could you explain what {q} means?",
]
MEANING_A = [
    "{Q} is {art} {pos} meaning {d}.",
    "{Q} means {d}.",
]
SYN_Q = [
    "What is another word for {q}?", "Give me a synonym for {q}.", "What's a synonym of {q}?",
    "Name a word that means the same as {q}.", "What is a synonym for {q}?",
    "Synonym for {q}?", "Is there another word for {q}?",
]
ANT_Q = [
    "What is the opposite of {q}?", "What's an antonym of {q}?", "Give me the opposite of {q}.",
    "What is the antonym of {q}?", "Opposite of {q}?", "What word means the opposite of {q}?",
]
USE_Q = [
    "Use {q} in a sentence.", "Can you give me an example sentence with {q}?",
    "How do you use {q} in a sentence?", "Show me how to use the word {q}.",
    "Give an example of {q} in a sentence.", "Put {q} in a sentence.",
]
IDK_A = [
    "I'm sorry, I don't know. I am a small demo model that only knows the meanings of English words and simple arithmetic.",
    "I don't know. I'm a tiny demo model trained on a dictionary, so I can't answer questions like that.",
    "Sorry, that is outside what I know. I can explain what English words mean or do simple sums.",
    "I don't know the answer to that. I only learned word meanings from a dictionary.",
]
IDK_TOPICS = {
    "news": ["Who won the election last night?", "What is the latest news?", "What happened in the world today?",
             "Who won the football match yesterday?", "What are today's headlines?",
             "What is the stock price of {company} today?", "Did {company} release a new product this week?",
             "What is the weather like today?", "Will it rain tomorrow in {city}?", "What time is it now?",
             "What's today's date?", "Who is the current president of {country}?",
             "How is the economy of {country} doing this year?", "What is trending on the internet right now?"],
    "people": ["Who is {person}?", "Tell me about {person}.", "How old is {person}?", "Where does {person} live?",
               "What is {person} famous for?", "Is {person} married?", "What did {person} say yesterday?"],
    "code": ["Write a Python function that {task}.", "How do I {task} in {lang}?", "Write {lang} code to {task}.",
             "Can you debug my {lang} program?", "Explain this {lang} error: segmentation fault.",
             "What is the syntax for a for loop in {lang}?", "Write a script that {task}.",
             "How do I install a package in {lang}?"],
    "facts": ["What is the population of {city}?", "How far is {city} from {city2}?",
              "What is the capital of {country}?", "Translate 'good morning' into {language}.",
              "What is the best restaurant in {city}?", "Recommend a good movie to watch.",
              "What is the price of a flight to {city}?", "Who wrote the book I'm reading?",
              "What is my name?", "Where am I right now?", "What's the phone number of {company}?",
              "How many people live in {country}?"],
}
IDK_FILL = {
    "company": ["Acme Corp", "Globex", "Initech", "Umbrella Inc", "Stark Industries", "Wayne Enterprises"],
    "city": ["Paris", "Tokyo", "Lagos", "Lima", "Oslo", "Cairo", "Toronto", "Mumbai"],
    "city2": ["Berlin", "Sydney", "Nairobi", "Madrid", "Seoul", "Chicago"],
    "country": ["France", "Japan", "Brazil", "Kenya", "Canada", "India", "Norway", "Peru"],
    "person": ["John Smith", "Maria Garcia", "Li Wei", "Ahmed Khan", "Emma Johnson", "Yuki Tanaka",
               "the mayor of my town", "my neighbour", "Olga Petrova", "Carlos Silva"],
    "task": ["sorts a list", "reads a file", "reverses a string", "parses JSON", "connects to a database",
             "downloads a web page", "computes prime numbers", "sends an email"],
    "lang": ["Python", "C++", "JavaScript", "Rust", "Java", "Go", "Haskell"],
    "language": ["French", "German", "Japanese", "Spanish", "Swahili"],
}
GREETINGS = [
    (["Hi", "Hello", "Hello!", "Hi there!", "Hey", "hello", "hi", "Good morning", "Good evening", "Good afternoon!",
      "Hey there"],
     ["Hello! I'm a small demo model. Ask me what an English word means.",
      "Hi! I can explain the meanings of English words. Which word would you like to know about?",
      "Hello! How can I help you? I know the meanings of many English words.",
      "Hi there! Ask me about a word and I will try to define it."]),
    (["How are you?", "How are you doing?", "How's it going?", "how are you"],
     ["I'm fine, thank you! I'm a small demo model. Would you like to know what a word means?",
      "I'm doing well, thanks for asking. Ask me about any English word."]),
    (["Who are you?", "What are you?", "What is your name?", "Are you a person?", "Are you human?"],
     ["I'm a small demo language model built with the Griffin architecture. I was trained on a dictionary, so I know word meanings and little else.",
      "I am a tiny demo model, not a person. I learned the meanings of English words from WordNet."]),
    (["What can you do?", "Help", "What do you know?", "What can I ask you?", "What are you good at?"],
     ["I can tell you what English words mean, give synonyms and opposites, use words in sentences, and do simple arithmetic.",
      "Ask me what a word means, for a synonym or an opposite, or for a simple sum like 3 plus 4."]),
    (["Thanks!", "Thank you", "Thank you very much.", "thanks", "Great, thanks!"],
     ["You're welcome!", "You're welcome! Ask me about another word any time.", "Glad I could help!"]),
    (["Bye", "Goodbye!", "See you later", "bye"],
     ["Goodbye!", "Goodbye! Have a nice day.", "Bye! Come back if you want to know what a word means."]),
]


def meaning_answer(rng, w, ss, second=None):
    q = "'" + w + "'"
    pos = POS_NAME[ss.pos]
    d = ss.defs[0]
    a = rng.choice(MEANING_A).format(Q=q, art=article(pos), pos=pos, d=d)
    a = cap(a)
    if second is not None and second.defs and rng.random() < 0.15:
        a += f" It can also mean {second.defs[0]}."
    return a


def chat_examples_for_word(rng, w, senses, synsets, n_meaning):
    """All single-turn chat examples about lemma w. senses: synsets, most common first."""
    ex = []
    first = senses[0]
    second = senses[1] if len(senses) > 1 else None
    for _ in range(n_meaning):
        q = rng.choice(MEANING_Q).format(q=quote(rng, w))
        ex.append(("meaning", [q, meaning_answer(rng, w, first, second)]))
    if first.pos == "n" and rng.random() < 0.5:
        q = rng.choice([f"What is {article(w)} {w}?", f"What's {article(w)} {w}?", f"what is {article(w)} {w}"])
        ex.append(("meaning", [q, f"{cap(article(w))} {w} is {first.defs[0]}."]))
    if first.pos == "v" and rng.random() < 0.4:
        q = f"What does it mean to {w}?"
        ex.append(("meaning", [q, f"To {w} means to {first.defs[0]}."
                               if not first.defs[0].startswith("to ") else f"It means {first.defs[0]}."]))
    # synonyms: other single-word lemmas of the most common sense
    syns = [s for s in first.words if s != w and good_lemma(s)]
    if first.pos in ("a", "s") and not syns:
        for (sym, t, _, _) in first.ptrs:
            if sym == "&" and t in synsets:
                syns += [s for s in synsets[t].words if s != w and good_lemma(s)]
    if syns:
        q = rng.choice(SYN_Q).format(q=quote(rng, w))
        if len(syns) >= 2 and rng.random() < 0.5:
            a = f"Synonyms of '{w}' include '{syns[0]}' and '{syns[1]}'."
        else:
            a = rng.choice([f"Another word for '{w}' is '{syns[0]}'.", f"A synonym of '{w}' is '{syns[0]}'.",
                            f"You could say '{syns[0]}' instead of '{w}'."])
        ex.append(("synonym", [q, a]))
    # antonyms (lexical pointers from this word)
    ants = []
    for ss in senses[:2]:
        widx = ss.words.index(w) + 1 if w in ss.words else -1
        for (sym, t, s, tw) in ss.ptrs:
            if sym == "!" and t in synsets and (s == 0 or s == widx) and tw >= 1:
                ants.append(synsets[t].words[tw - 1])
    if ants:
        q = rng.choice(ANT_Q).format(q=quote(rng, w))
        a = rng.choice([f"The opposite of '{w}' is '{ants[0]}'.", f"An antonym of '{w}' is '{ants[0]}'.",
                        f"'{cap(ants[0])}' is the opposite of '{w}'."])
        ex.append(("antonym", [q, a]))
    elif rng.random() < 0.04:
        q = rng.choice(ANT_Q).format(q=quote(rng, w))
        ex.append(("antonym", [q, f"I don't know an exact opposite of '{w}'."]))
    # usage, from a WordNet example that contains the word
    usable = [e for ss in senses[:3] for e in ss.examples if word_in(e, w)]
    if usable:
        e = usable[0] if rng.random() < 0.6 else rng.choice(usable)
        q = rng.choice(USE_Q).format(q=quote(rng, w))
        a = rng.choice([f"Here is an example: \"{sentence(e)}\"", f"For example: \"{sentence(e)}\"",
                        f"You could say: \"{sentence(e)}\""])
        ex.append(("usage", [q, a]))
    return ex


def arithmetic_examples(rng, top, copies):
    """+, -, x with operands 0..top (no negative results), exact / with
    divisor 1..top and quotient 0..top; `copies` phrasings of each fact."""
    facts = []
    for a in range(top + 1):
        for b in range(top + 1):
            facts.append(("+", a, b, a + b))
            if a >= b:
                facts.append(("-", a, b, a - b))
            facts.append(("*", a, b, a * b))
            if b > 0:
                facts.append(("/", a * b, b, a))
    words = {"+": ["plus", "+", "added to"], "-": ["minus", "-", "take away"],
             "*": ["times", "*", "multiplied by", "x"], "/": ["divided by", "/"]}
    out = []
    for (op, a, b, c) in facts:
        for _ in range(copies):
            w = rng.choice(words[op])
            form = rng.randrange(6)
            if form == 0:
                q = f"What is {a} {w} {b}?"
            elif form == 1:
                q = f"What's {a} {w} {b}?"
            elif form == 2:
                q = f"Calculate {a} {w} {b}."
            elif form == 3:
                q = f"{a} {w} {b} = ?"
            elif form == 4:
                q = f"How much is {a} {w} {b}?"
            else:
                q = f"what is {a} {w} {b}"
            sym = {"+": "+", "-": "-", "*": "x", "/": "/"}[op]
            name = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[op]
            ans = rng.choice([f"{a} {name} {b} is {c}.", f"{a} {sym} {b} = {c}.", f"The answer is {c}."])
            out.append((f"arith:{op}:{a}:{b}", ["arithmetic", [q, ans]]))
    return out


def idk_examples(rng, n):
    out = []
    for i in range(n):
        topic = rng.choice(sorted(IDK_TOPICS))
        tmpl = rng.choice(IDK_TOPICS[topic])
        q = re.sub(r"\{(\w+)\}", lambda m: rng.choice(IDK_FILL[m.group(1)]), tmpl)
        out.append((f"idk:{q}", ["idk", [q, rng.choice(IDK_A)]]))
    return out


def greeting_examples(rng):
    out = []
    for qs, ans in GREETINGS:
        for q in qs:
            for a in ans:
                out.append((f"greet:{q}:{a}", ["greeting", [q, a]]))
    return out


# ----------------------------------------------------------------------------
# Stage 1: text
# ----------------------------------------------------------------------------


def stage_text(args):
    rng = random.Random(args.seed)
    synsets = load_synsets()
    index = load_index()
    counts = load_counts()
    print(f"synsets: {len(synsets)}, lemmas: {len(index)}")

    # Common single-word lemmas (by concordance frequency) get chat examples.
    cands = []
    for lemma, by_pos in counts.items():
        if not good_lemma(lemma) or lemma not in index:
            continue
        pos, c = by_pos.most_common(1)[0]
        if pos not in index[lemma]:
            continue
        cands.append((-sum(by_pos.values()), lemma, pos))
    cands.sort()
    # Pretraining text covers the synsets of the --pretrain-words most frequent lemmas.
    pre_vocab = {c[1] for c in cands[:args.pretrain_words]}
    tiers = [(int(a), int(b)) for a, b in (t.split(":") for t in args.tiers.split(","))]
    cands = cands[:tiers[-1][0]]
    n_meaning = {}
    lo = 0
    for hi, n in tiers:
        for c in cands[lo:hi]:
            n_meaning[c[1]] = n
        lo = hi
    print(f"chat words: {len(cands)} (least frequent: {cands[-1][1]}, count {-cands[-1][0]})")

    # Held-out words: 20 of the moderately common chat words, chosen by seed.
    pool = [c for c in cands[300:1500] if index[c[1]][c[2]] and synsets[index[c[1]][c[2]][0]].defs]
    heldout = sorted(rng.sample(pool, 20), key=lambda c: c[1])
    heldout_set = {c[1] for c in heldout}
    # Validation words: 2% of the chat words (all their examples and pretraining
    # headword entries go to validation).
    rest = [c[1] for c in cands if c[1] not in heldout_set]
    val_words = set(rng.sample(rest, max(1, len(rest) // 50)))

    # --- pretraining sentences, one list per synset; a synset whose first word
    # is a validation word goes to validation.
    pre_train, pre_val = [], []
    for key in sorted(synsets):
        ss = synsets[key]
        if not any(w in pre_vocab for w in ss.words):
            continue  # rare words, taxonomy (genus ...), proper names, multi-word terms
        entries = definition_entries(rng, ss, synsets)
        (pre_val if ss.words[0] in val_words else pre_train).extend(entries)
    # extra headword entries for the chat words (their most common senses)
    for (_, w, pos) in cands:
        for j, k in enumerate(index[w][pos][:2]):
            ss = synsets[k]
            if ss.defs:
                texts = [f"{w} ({POS_NAME[ss.pos]}): {'; '.join(ss.defs)}."]
                if j == 0:
                    texts.append(f"The word \"{w}\" means {ss.defs[0]}.")
                (pre_val if w in val_words else pre_train).extend(texts)

    # --- chat examples
    chat_train, chat_val, chat_heldout = [], [], []
    for (_, w, pos) in cands:
        senses = [synsets[k] for k in index[w][pos] if synsets[k].defs]
        if not senses:
            continue
        exs = chat_examples_for_word(rng, w, senses, synsets, n_meaning=n_meaning[w])
        for kind, turns in exs:
            item = {"kind": kind, "word": w, "turns": turns}
            if w in heldout_set:
                chat_heldout.append(item)
            elif w in val_words:
                chat_val.append(item)
            else:
                chat_train.append(item)
    other = (arithmetic_examples(rng, args.arith_max, args.arith_copies) + idk_examples(rng, args.idk)
             + greeting_examples(rng) * 3)
    # Arithmetic facts are split by fact, the rest by item.
    arith_keys = sorted({k for k, _ in other if k.startswith("arith:")})
    val_arith = set(rng.sample(arith_keys, len(arith_keys) // 25))
    for key, (kind, turns) in other:
        item = {"kind": kind, "turns": turns}
        if kind == "arithmetic":
            (chat_val if key in val_arith else chat_train).append(item)
        elif kind == "greeting":
            chat_train.append(item)
        else:
            (chat_val if rng.random() < 0.03 else chat_train).append(item)
    # Two-turn conversations built from training examples.
    n_multi = len(chat_train) // 10
    multi = []
    for _ in range(n_multi):
        a, b = rng.sample(chat_train, 2)
        multi.append({"kind": "multi", "turns": a["turns"] + b["turns"]})
    chat_train += multi
    rng.shuffle(pre_train)
    rng.shuffle(chat_train)

    d = os.path.join(args.out, "data")
    os.makedirs(d, exist_ok=True)
    for name, lines in (("pretrain_train.txt", pre_train), ("pretrain_val.txt", pre_val)):
        with open(os.path.join(d, name), "w") as f:
            for line in lines:
                assert "\n" not in line
                f.write(line + "\n")
    for name, items in (("chat_train.jsonl", chat_train), ("chat_val.jsonl", chat_val),
                        ("chat_heldout.jsonl", chat_heldout)):
        with open(os.path.join(d, name), "w") as f:
            for it in items:
                f.write(json.dumps(it, ensure_ascii=False) + "\n")
    held = []
    for (_, w, pos) in heldout:
        ss = synsets[index[w][pos][0]]
        held.append({"word": w, "pos": POS_NAME[ss.pos], "gloss": "; ".join(ss.defs),
                     "examples": ss.examples,
                     "question": f"What does '{w}' mean?"})
    with open(os.path.join(d, "heldout_words.json"), "w") as f:
        json.dump({"description": "20 words whose chat examples (meaning, synonym, antonym, usage "
                                  "questions) were removed from the instruction-tuning data. Their "
                                  "WordNet definitions still occur in the pretraining text. Glosses "
                                  "from WordNet 3.0 (Princeton University), first sense of the "
                                  "word's most frequent part of speech.",
                   "seed": args.seed, "words": held}, f, indent=1)
    with open(os.path.join(d, "val_words.json"), "w") as f:
        json.dump(sorted(val_words), f, indent=0)
    kinds = collections.Counter(it["kind"] for it in chat_train)
    print(f"pretraining sentences: train {len(pre_train)}, val {len(pre_val)}")
    print(f"chat examples: train {len(chat_train)} {dict(kinds)}, val {len(chat_val)}, "
          f"held-out {len(chat_heldout)}")
    print("held-out words:", ", ".join(c[1] for c in heldout))


# ----------------------------------------------------------------------------
# Stage 2: tokenizer
# ----------------------------------------------------------------------------


def stage_tokenizer(args):
    d = os.path.join(args.out, "data")
    corpus = os.path.join(d, "spm_corpus.txt")
    with open(corpus, "w") as f:
        for line in open(os.path.join(d, "pretrain_train.txt")):
            f.write(line)
        for line in open(os.path.join(d, "chat_train.jsonl")):
            it = json.loads(line)
            for t in it["turns"]:
                f.write(t + "\n")
        f.write("user\nmodel\n")
    # Relative paths (run in OUT): spm_train stores them in the model file, which
    # then does not depend on where OUT is.
    cmd = ["spm_train", "--input=data/spm_corpus.txt", "--model_prefix=tokenizer", f"--vocab_size={args.vocab}",
           "--model_type=bpe", "--character_coverage=1.0", "--byte_fallback=true",
           "--add_dummy_prefix=false", "--remove_extra_whitespaces=false",
           "--normalization_rule_name=identity", "--split_digits=true",
           "--pad_id=0", "--eos_id=1", "--bos_id=2", "--unk_id=3",
           "--pad_piece=<pad>", "--eos_piece=<eos>", "--bos_piece=<bos>", "--unk_piece=<unk>",
           "--user_defined_symbols=<start_of_turn>,<end_of_turn>",
           "--num_threads=1", "--input_sentence_size=0", "--shuffle_input_sentence=false",
           "--max_sentence_length=8192", "--minloglevel=1"]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True, cwd=args.out)


# ----------------------------------------------------------------------------
# Stage 3: encoding and packing
# ----------------------------------------------------------------------------


def spm_encode_all(model, texts):
    """Encodes each text (no newlines) with spm_encode; returns list of id lists."""
    inp = "".join(t + "\n" for t in texts)
    res = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id"],
                         input=inp.encode("utf-8"), stdout=subprocess.PIPE, check=True)
    lines = res.stdout.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(texts):
        raise RuntimeError(f"spm_encode returned {len(lines)} lines for {len(texts)} inputs")
    return [[int(x) for x in ln.split()] for ln in lines]


def piece_ids(model):
    res = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id"],
                         input="<start_of_turn>\n<end_of_turn>\n".encode(), stdout=subprocess.PIPE,
                         check=True)
    a, b = res.stdout.decode().split("\n")[:2]
    return int(a), int(b)


class Encoder:
    """Encodes text segments (each possibly containing '\\n') with spm_encode,
    splitting at newlines: '\\n' never merges with neighbours in this
    tokenizer (no training line contains it, so it is always the byte piece
    <0x0A>), so encode(a + '\\n' + b) == encode(a) + encode('\\n') + encode(b).
    stage_encode verifies this claim on samples with the C++-equivalent path."""

    def __init__(self, model):
        self.model = model
        self.cache = {}
        self.nl = None

    def prime(self, texts):
        need = set()
        for t in texts:
            for part in t.split("\n"):
                if part and part not in self.cache:
                    need.add(part)
        need = sorted(need)
        for part, ids in zip(need, spm_encode_all(self.model, need)):
            self.cache[part] = ids
        if self.nl is None:
            self.nl = newline_ids(self.model)

    def encode(self, text):
        out = []
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                out += self.nl
            if part:
                out += self.cache[part]
        return out


def newline_ids(model):
    # spm_encode is line based, so '\n' cannot be passed to it; no piece contains
    # a newline, so '\n' encodes by byte fallback to the piece <0x0A>.
    res = subprocess.run(["spm_export_vocab", f"--model={model}"], stdout=subprocess.PIPE, check=True)
    for i, line in enumerate(res.stdout.decode("utf-8").split("\n")):
        if line.split("\t")[0] == "<0x0A>":
            return [i]
    raise RuntimeError("tokenizer has no <0x0A> byte piece")


def chat_ids(enc, turns, bos, sot, eot):
    """ids, loss mask (1 where the *token* is a model-turn token to be predicted)."""
    ids, mask = [bos], [0]
    for i, text in enumerate(turns):
        role = "user" if i % 2 == 0 else "model"
        head = enc.encode(role + "\n")
        body = enc.encode(text)
        ids += [sot] + head
        mask += [0] * (1 + len(head))
        ids += body + [eot]
        mask += [1 if role == "model" else 0] * (len(body) + 1)
        nl = enc.encode("\n")
        ids += nl
        mask += [0] * len(nl)
    return ids, mask


def pack(docs, row_len, pad=0):
    """Greedy in-order packing of (ids, mask) documents into rows of row_len
    tokens; returns tokens [N, row_len], positions [N, row_len], mask [N, row_len]
    (mask[i] = 1: token i is a training target)."""
    import torch
    rows_t, rows_p, rows_m = [], [], []
    cur_t, cur_p, cur_m = [], [], []

    def flush():
        n = row_len - len(cur_t)
        rows_t.append(cur_t + [pad] * n)
        rows_p.append(cur_p + [0] * n)
        rows_m.append(cur_m + [0] * n)

    for ids, mask in docs:
        if len(ids) > row_len:
            ids, mask = ids[:row_len], mask[:row_len]
        if len(cur_t) + len(ids) > row_len:
            flush()
            cur_t, cur_p, cur_m = [], [], []
        cur_t += ids
        cur_p += list(range(len(ids)))
        cur_m += mask
    if cur_t:
        flush()
    return (torch.tensor(rows_t, dtype=torch.int16), torch.tensor(rows_p, dtype=torch.int16),
            torch.tensor(rows_m, dtype=torch.bool))


def pretrain_docs(enc, lines, bos, row_len):
    """Consecutive sentences joined by newlines into documents of <= row_len tokens."""
    nl = enc.encode("\n")
    docs = []
    cur = [bos]
    for line in lines:
        ids = enc.encode(line)
        if len(cur) > 1 and len(cur) + len(nl) + len(ids) > row_len:
            docs.append((cur, [0] + [1] * (len(cur) - 1)))
            cur = [bos]
        if len(cur) > 1:
            cur = cur + nl
        cur = cur + ids
    if len(cur) > 1:
        docs.append((cur[:row_len], [0] + [1] * (min(len(cur), row_len) - 1)))
    return docs


def stage_encode(args):
    import torch
    d = os.path.join(args.out, "data")
    model = os.path.join(args.out, "tokenizer.model")
    sot, eot = piece_ids(model)
    bos = 2
    enc = Encoder(model)
    pre = {s: [ln.rstrip("\n") for ln in open(os.path.join(d, f"pretrain_{s}.txt"))] for s in ("train", "val")}
    chat = {s: [json.loads(ln) for ln in open(os.path.join(d, f"chat_{s}.jsonl"))]
            for s in ("train", "val", "heldout")}
    texts = pre["train"] + pre["val"] + ["user\n", "model\n", "\n"]
    for items in chat.values():
        for it in items:
            for i, t in enumerate(it["turns"]):
                texts.append(("user" if i % 2 == 0 else "model") + "\n" + t)
    enc.prime(texts)
    # Check the newline-splitting claim on a sample by encoding whole strings
    # with spm_encode's own handling of "\n" inside a line is impossible (line
    # based), so check instead that no vocabulary piece contains a newline.
    vocab = subprocess.run(["spm_export_vocab", f"--model={model}"], stdout=subprocess.PIPE,
                           check=True).stdout.decode("utf-8").split("\n")
    pieces = [ln.split("\t")[0] for ln in vocab if ln]
    assert not any("\n" in p for p in pieces)
    assert pieces[0:4] == ["<pad>", "<eos>", "<bos>", "<unk>"], pieces[:6]
    print(f"tokenizer: {len(pieces)} pieces; <start_of_turn>={sot} <end_of_turn>={eot} "
          f"newline={enc.nl}")

    row_len = args.seq_len + 1
    out = {"vocab_size": len(pieces), "seq_len": args.seq_len, "sot": sot, "eot": eot, "bos": bos}
    for split in ("train", "val"):
        docs = pretrain_docs(enc, pre[split], bos, row_len)
        t, p, m = pack(docs, row_len)
        out[f"pretrain_{split}"] = {"tokens": t, "positions": p, "mask": m}
        cdocs = [chat_ids(enc, it["turns"], bos, sot, eot) for it in chat[split]]
        t, p, m = pack(cdocs, row_len)
        out[f"chat_{split}"] = {"tokens": t, "positions": p, "mask": m}
    out["chat_heldout_prompts"] = [
        {"word": it["word"], "question": it["turns"][0], "answer": it["turns"][1]}
        for it in chat["heldout"] if it["kind"] == "meaning"]
    out["val_prompts"] = [
        {"question": it["turns"][0], "answer": it["turns"][1]} for it in chat["val"][:50]]
    for k, v in out.items():
        if isinstance(v, dict) and "tokens" in v:
            n = int(v["mask"].sum())
            print(f"{k}: {v['tokens'].shape[0]} rows, {n} target tokens")
    torch.save(out, os.path.join(d, "packed.pt"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--pretrain-words", type=int, default=12000,
                    help="pretraining text covers the synsets of this many most frequent lemmas")
    ap.add_argument("--arith-max", type=int, default=10)
    ap.add_argument("--arith-copies", type=int, default=6)
    ap.add_argument("--tiers", default="1500:8",
                    help="RANK:N,... -- the words up to frequency rank RANK get N 'what does X mean' examples")
    ap.add_argument("--idk", type=int, default=1000)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--stage", choices=["all", "text", "tokenizer", "encode"], default="all")
    args = ap.parse_args()
    if args.stage in ("all", "text"):
        stage_text(args)
    if args.stage in ("all", "tokenizer"):
        stage_tokenizer(args)
    if args.stage in ("all", "encode"):
        stage_encode(args)


if __name__ == "__main__":
    sys.exit(main())

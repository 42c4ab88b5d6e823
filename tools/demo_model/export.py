#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exports the trained demo model to a Hugging Face style folder the engine loads.

Writes DEST (default resources/models/demo):
  config.json            HF RecurrentGemma config, "torch_dtype": "bfloat16"
  model.safetensors      BF16 tensors, HF names, no lm_head (tied)
  tokenizer.model        the SentencePiece model of prepare_data.py
  heldout_words.json     the 20 held-out words with their WordNet glosses
  validation_sample.json validation token ids + the torch model's mean next-token loss
  MODEL_CARD.md          description, numbers, sample outputs of the C++ CLI

  /usr/bin/python3 export.py [--weights out/final.pt] [--dest ../../resources/models/demo]

Sample outputs are produced with the C++ CLI (--griffin, default
build/app/griffin); without it the card says so and export.py can be re-run.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import evaluate as E  # noqa: E402
import griffin_torch as G  # noqa: E402
import prepare_data as P  # noqa: E402

SAMPLE_PROMPTS = [
    "What does 'water' mean?",
    "What does 'happy' mean?",
    "Define 'house'.",
    "What does 'lucid' mean?",
    "What does 'picture' mean?",
    "What is another word for 'big'?",
    "What is the opposite of 'good'?",
    "Use 'remember' in a sentence.",
    "What is 7 plus 5?",
    "What is 6 times 3?",
    "Hello!",
    "Who is the president of France?",
    "Write a Python function that sorts a list.",
]


def validation_sequence(out_dir, tokenizer, length):
    """BOS + consecutive validation pretraining sentences joined by newlines,
    cut to `length` tokens (one document, positions 0..length-1)."""
    lines = [ln.rstrip("\n") for ln in open(os.path.join(out_dir, "data", "pretrain_val.txt"))]
    enc = P.Encoder(tokenizer)
    enc.prime(lines[:200])
    ids = [2]
    for ln in lines[:200]:
        if len(ids) > 1:
            ids += enc.encode("\n")
        ids += enc.encode(ln)
        if len(ids) >= length:
            break
    return ids[:length]


@torch.no_grad()
def mean_next_token_loss(model, ids):
    logits = model(torch.tensor([ids]))[0].double()
    logp = torch.log_softmax(logits[:-1], dim=-1)
    tgt = torch.tensor(ids[1:])
    return float(-logp[torch.arange(len(ids) - 1), tgt].mean())


def run_cli(griffin, dest, prompt, max_tokens=80):
    cmd = [griffin, "generate", "--model", dest, "--chat", "--temperature", "0",
           "--max-tokens", str(max_tokens), "--prompt", prompt]
    for attempt in range(10):  # the binary may be briefly missing while it is rebuilt
        if os.path.exists(griffin):
            break
        time.sleep(30)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {res.stderr.decode(errors='replace')}")
    return res.stdout.decode("utf-8", errors="replace").strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="training output folder")
    ap.add_argument("--weights", default=None, help="final.pt (default) or ckpt.pt of train.py")
    ap.add_argument("--dest", default=os.path.join(ROOT, "resources", "models", "demo"))
    ap.add_argument("--griffin", default=os.path.join(ROOT, "build", "app", "griffin"))
    ap.add_argument("--no-samples", action="store_true", help="do not run the C++ CLI")
    ap.add_argument("--no-eval", action="store_true", help="skip evaluate.py's question-answer scores")
    ap.add_argument("--val-tokens", type=int, default=320)
    args = ap.parse_args()

    weights = args.weights or os.path.join(args.out, "final.pt")
    obj = torch.load(weights)
    state = obj["model"] if "model" in obj else obj
    summary_path = os.path.join(args.out, "train_summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else None
    if summary and "model" in obj:
        summary = None  # a mid-training checkpoint: the summary belongs to another run state
    cfg_hf = (summary or obj)["config"] if (summary or "config" in obj) else None
    cfg = G.GriffinConfig.from_hf(cfg_hf)

    os.makedirs(args.dest, exist_ok=True)
    hf = cfg.to_hf("bfloat16")
    with open(os.path.join(args.dest, "config.json"), "w") as f:
        json.dump(hf, f, indent=2)
        f.write("\n")
    model = G.Griffin(cfg)
    model.load_hf_state(state)
    tensors = model.hf_tensors()
    G.save_safetensors(os.path.join(args.dest, "model.safetensors"), tensors, dtype="BF16",
                       metadata={"format": "pt", "source": "tools/demo_model/train.py"})
    tokenizer = os.path.join(args.out, "tokenizer.model")
    shutil.copyfile(tokenizer, os.path.join(args.dest, "tokenizer.model"))
    held = json.load(open(os.path.join(args.out, "data", "heldout_words.json")))
    held["licence"] = "Glosses from WordNet 3.0. WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Used under the WordNet 3.0 licence (see MODEL_CARD.md)."
    with open(os.path.join(args.dest, "heldout_words.json"), "w") as f:
        json.dump(held, f, indent=1, ensure_ascii=False)
        f.write("\n")

    # The exported (bf16) weights, read back and computed in float32: what the engine sees.
    exported = G.load_model(args.dest)
    ids = validation_sequence(args.out, tokenizer, args.val_tokens)
    loss = mean_next_token_loss(exported, ids)
    with open(os.path.join(args.dest, "validation_sample.json"), "w") as f:
        json.dump({
            "description": "One validation document (BOS + held-out WordNet pretraining sentences "
                           "joined by newlines), fed as a single prefill at positions 0..n-1. loss = "
                           "mean over i = 0..n-2 of -ln softmax(logits[i])[tokens[i+1]], with the "
                           "final soft-capped logits, computed by tools/demo_model/griffin_torch.py "
                           "in float32 from the bf16 weights of model.safetensors.",
            "num_tokens": len(ids), "mean_loss": round(loss, 6), "tokens": ids}, f)
        f.write("\n")
    print(f"validation_sample: {len(ids)} tokens, mean loss {loss:.6f}")

    samples = []
    if not args.no_samples:
        for q in SAMPLE_PROMPTS:
            try:
                a = run_cli(args.griffin, args.dest, q)
            except Exception as e:  # noqa: BLE001
                print(f"warning: CLI sample failed: {e}", file=sys.stderr)
                samples = None
                break
            print(f"Q: {q}\nA: {a}\n")
            samples.append((q, a))

    ev = None
    if not args.no_eval:
        ev = E.run_eval(args.dest, args.out, n=100, seed=7)
        with open(os.path.join(args.out, "eval.json"), "w") as f:
            json.dump(ev, f, indent=1)
    write_card(args, cfg, model, summary, samples, loss, len(ids), held, ev)
    print(f"exported to {args.dest}")


def word_status(out_dir):
    """word -> 'trained' | 'held out' | 'validation' for the chat words."""
    st = {}
    for name, label in (("chat_train.jsonl", "trained"), ("chat_val.jsonl", "validation"),
                        ("chat_heldout.jsonl", "held out")):
        for ln in open(os.path.join(out_dir, "data", name)):
            it = json.loads(ln)
            if "word" in it:
                st.setdefault(it["word"], label)
    return st


def write_card(args, cfg, model, summary, samples, val_loss, val_n, held, ev):
    n_all = model.num_parameters()
    n_emb = model.model.embed_tokens.weight.numel()
    size = os.path.getsize(os.path.join(args.dest, "model.safetensors"))
    s = summary or {}
    ta = s.get("args", {})

    def fmt(v, spec):
        return format(v, spec) if isinstance(v, (int, float)) else "(not recorded)"

    lines = []
    add = lines.append
    add("# Griffin demo model (WordNet dictionary chat)")
    add("")
    add("A very small language model with the RecurrentGemma (Griffin) architecture, trained from "
        "scratch on one CPU thread in under an hour, so that Griffin Chat ships with a model that "
        "runs anywhere and exercises the whole engine (recurrent blocks, local attention, "
        "tokenizer, chat template). **It is a demo, not an assistant.** It has read parts of an "
        "English dictionary (WordNet) and knows little else. It answers in the trained formats: "
        "what an English word means, a synonym, an opposite, an example sentence, small sums, "
        "greetings, and \"I don't know\" for questions about the world, people or code. For "
        "the ~1,500 frequent words it was drilled on it usually recites the WordNet definition "
        "of the word's most common sense; for any other word it confidently defines a "
        "similar-looking word it knows instead ('lucid' -> 'liquid') or makes something up. "
        "Synonyms, opposites and example sentences are mostly wrong, sums often are.")
    add("")
    add("## Architecture")
    add("")
    add("| | |")
    add("| --- | --- |")
    add(f"| layers | {cfg.num_layers} (recurrent, recurrent, attention, ...) |")
    add(f"| width | {cfg.width} |")
    add(f"| RG-LRU width | {cfg.lru_width} ({cfg.num_heads} gate blocks of {cfg.lru_width // cfg.num_heads}) |")
    add(f"| MLP width | {cfg.mlp_width} (HF intermediate_size {2 * cfg.mlp_width}) |")
    add(f"| attention | {cfg.num_heads} query heads x {cfg.head_dim}, 1 key/value head, local window {cfg.attention_window} |")
    add(f"| conv1d width | {cfg.conv_width} |")
    add(f"| vocabulary | {cfg.vocab_size} (SentencePiece BPE, byte fallback) |")
    add(f"| logits soft cap | {cfg.logits_soft_cap} |")
    add(f"| parameters | {n_all:,} ({n_all - n_emb:,} non-embedding, {n_emb:,} embedding; tied input/output embedding) |")
    add(f"| weights | bfloat16, `model.safetensors` {size / 1e6:.1f} MB |")
    add("")
    add("Same math as RecurrentGemma-2B/9B (RG-LRU with c = 8, depthwise causal Conv1D, "
        "local multi-query attention with RoPE on half of each head, GeGLU MLP, RMSNorm, "
        "embedding scaled by bf16(sqrt(width)), tanh soft cap 30), only much smaller. "
        "Tensors use the Hugging Face `RecurrentGemmaForCausalLM` names and layout.")
    add("")
    add("## Tokenizer and chat format")
    add("")
    add("`tokenizer.model` is a SentencePiece BPE model trained with `spm_train` on the training "
        "text: byte fallback, no dummy prefix, identity normalisation, digits split, "
        "`<pad>`=0, `<eos>`=1, `<bos>`=2, `<unk>`=3, user-defined `<start_of_turn>`=4 and "
        "`<end_of_turn>`=5. Prompts use the Gemma chat template "
        "(`<bos><start_of_turn>user\\n...<end_of_turn>\\n<start_of_turn>model\\n`); the model ends "
        "its reply with `<end_of_turn>`. There is no system role.")
    add("")
    add("## Training data")
    add("")
    add("All text is derived from **WordNet 3.0** (Princeton University; Debian package "
        "`wordnet-base`) by `tools/demo_model/prepare_data.py` (seeded, deterministic):")
    add("")
    add("* Pretraining text: WordNet glosses and example sentences turned into plain English "
        "sentences (\"X (noun): ...\", \"The word \\\"X\\\" means ...\", \"A is a kind of B\", "
        "\"The opposite of X is Y\", synonyms, examples) for every synset that contains one of "
        "the 12,000 most frequent single-word lemmas (frequency = WordNet's sense-tag counts).")
    add("* Instruction tuning (Gemma chat format): \"What does 'X' mean?\" in 14 phrasings, 8 "
        "per word, answered from the first WordNet definition of the most frequent sense, for the "
        "1,500 most frequent single-word lemmas; synonyms and antonyms; a sentence using the "
        "word (WordNet examples); arithmetic with operands up to 10 (+, -, x and exact /); "
        "greetings and questions about the model; \"I don't know\" answers to questions about "
        "current events, people, code and other facts; 10% two-turn conversations.")
    add("* Validation: 2% of those words (their chat examples and pretraining headword "
        "sentences), 4% of the arithmetic facts and 3% of the \"I don't know\" examples, held "
        "out by seed.")
    add("* Held-out words (`heldout_words.json`): 20 of the 1,500 words whose chat examples were "
        "removed from training; their definitions are still in the pretraining text, so they "
        "test whether the question-answer behaviour transfers to words seen only as plain text.")
    add("")
    add("## Training")
    add("")
    add("From scratch, one CPU thread, PyTorch (`tools/demo_model/train.py`, seed "
        f"{ta.get('seed', '?')}), reproducible bit for bit from the seed:")
    add("")
    add("```")
    add("cd tools/demo_model")
    add("/usr/bin/python3 prepare_data.py")
    add(f"/usr/bin/python3 train.py --steps {ta.get('steps', '?')} --phase-a {ta.get('phase_a', '?')} "
        f"--chat-a {ta.get('chat_a', '?')} --chat-b {ta.get('chat_b', '?')}")
    add("/usr/bin/python3 export.py")
    add("```")
    add("")
    add("| | |")
    add("| --- | --- |")
    add(f"| steps | {s.get('steps', '(not recorded)')} (batch {ta.get('batch', '?')} rows x {s.get('seq_len', '?')} tokens of packed documents) |")
    add(f"| schedule | first {ta.get('phase_a', '?')} of the steps: {ta.get('batch', 8) - ta.get('chat_a', 0)} pretraining + {ta.get('chat_a', '?')} chat rows per batch; then {ta.get('batch', 8) - ta.get('chat_b', 0)} + {ta.get('chat_b', '?')} |")
    add("| loss | next-token cross-entropy on every pretraining token and on the model-turn tokens (incl. `<end_of_turn>`) of chat examples |")
    add(f"| optimiser | AdamW (0.9, 0.95), peak lr {ta.get('lr', '?')}, {ta.get('warmup', '?')} warm-up steps, cosine to {ta.get('min_lr', '?')}, weight decay {ta.get('wd', '?')}, clip {ta.get('clip', '?')} |")
    add(f"| tokens seen | {fmt(s.get('tokens_seen'), ',')} input tokens ({fmt(s.get('target_tokens_seen'), ',')} loss targets) |")
    add(f"| final train loss | {fmt(s.get('final_train_loss_last50'), '.3f')} (mean of the last 50 steps, mostly chat answers) |")
    add(f"| validation loss | pretraining text {fmt(s.get('val_pretrain_loss'), '.3f')}, chat answers {fmt(s.get('val_chat_loss'), '.3f')} (float32 weights; validation words are unseen, so this measures format, not knowledge) |")
    add(f"| wall-clock time | {fmt((s.get('elapsed_s') or 0) / 60 if s else None, '.0f')} minutes |")
    add("")
    add(f"`validation_sample.json` holds {val_n} validation tokens; with the exported bf16 weights "
        f"the mean next-token loss on them is {val_loss:.4f}.")
    add("")
    add("Reproduction check (2026-11-30): the commands above, run again from an empty output "
        "folder on the same Debian 12 packages, gave a byte-identical `final.pt` and "
        "`model.safetensors`, the same losses to the last digit (train 0.91990, validation "
        "3.39842 / 3.54597) in 60 minutes (one thread, on a machine busy with builds).")
    add("")
    if ev:
        add("## Evaluation")
        add("")
        add("Greedy answers to \"What does 'X' mean?\" scored against the WordNet definition "
            "the word was trained with (`tools/demo_model/evaluate.py`, torch, exported weights): "
            "*exact* = the answer contains the definition verbatim, *F1* = word overlap.")
        add("")
        add("| words | n | exact | F1 |")
        add("| --- | --- | --- | --- |")
        for key, label in (("train", "trained words (sample)"), ("validation", "validation words (unseen)"),
                           ("heldout", "held-out words (only in pretraining text)")):
            r = ev[key]
            add(f"| {label} | {r['n']} | {r['exact']:.0%} | {r['f1']:.2f} |")
        add("")
        add(f"Arithmetic: {ev['arithmetic_train']['accuracy']:.0%} of {ev['arithmetic_train']['n']} "
            f"training questions and {ev['arithmetic_validation']['accuracy']:.0%} of "
            f"{ev['arithmetic_validation']['n']} validation questions answered correctly.")
        add("")
    add("## Sample outputs")
    add("")
    if samples:
        status = word_status(args.out)
        add("Greedy, with the C++ CLI: `griffin generate --model resources/models/demo --chat "
            "--temperature 0 --prompt \"...\"`. For word questions the note says whether the "
            "word's chat examples were in the training set.")
        add("")
        for q, a in samples:
            m = re.search(r"'([a-z-]+)'", q)
            note = ""
            if m:
                note = f" *(word {status.get(m.group(1), 'not in the chat set')})*"
            add(f"* **{q}**{note}  ")
            add(f"  {a}")
        add("")
        add("The held-out words are listed in `heldout_words.json` with their WordNet glosses.")
    else:
        add("(The C++ CLI was not available when this card was written; run "
            "`tools/demo_model/export.py` again to add samples.)")
    add("")
    add("## Limitations")
    add("")
    add("* Tiny (about 6 million parameters) and trained for under an hour on one CPU thread. "
        "It knows one sense (the most frequent) of about 1,500 common words. Asked about any "
        "other word, including the held-out ones, it does not say that it does not know: it "
        "answers with the definition of a similar-looking word it knows, often also putting "
        "that word in the answer, or invents a definition.")
    add("* Synonyms, opposites and example sentences had few training examples and are mostly "
        "wrong (\"A synonym of 'big' is 'big'\", invented words like \"ungood\").")
    add("* Knows only what WordNet glosses say; no world knowledge, no code, no other languages.")
    add("* Arithmetic only with operands up to 10, and not always right.")
    add("* Replies are short; long conversations and long prompts were not trained "
        f"(training documents are at most {s.get('seq_len', 256)} tokens).")
    add("* Use it only for testing and demonstrating the software.")
    add("")
    add("## Licences")
    add("")
    add("The model weights, tokenizer and this card are released with Griffin Chat. The training "
        "data is derived from WordNet 3.0, used under its licence:")
    add("")
    for para in P.WORDNET_LICENSE.strip().split("\n\n"):
        add("> " + " ".join(para.split()))
        add(">")
    lines.pop()
    add("")
    with open(os.path.join(args.dest, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()

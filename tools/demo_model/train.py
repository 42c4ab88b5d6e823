#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains the Griffin demo model from scratch on the data of prepare_data.py.

CPU only, one thread, fully reproducible for a given --seed and --steps: the
whole batch schedule is a function of the seed and is computed up front, so a
resumed run (--resume, from OUT/ckpt.pt) continues exactly where it stopped.

Schedule: phase A (the first --phase-a fraction of the steps) mixes WordNet
pretraining rows (loss on every token) with chat rows (loss on model-turn
tokens, including <end_of_turn>); phase B continues on mostly chat rows with a
little pretraining text. AdamW, linear warm-up, cosine decay.

  /usr/bin/python3 train.py            # defaults = the shipped model; see README.md
Outputs in OUT (default tools/demo_model/out): train.log, ckpt.pt (latest
checkpoint), final.pt (float32 weights, HF names), train_summary.json.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import griffin_torch as G  # noqa: E402


def model_config(vocab_size, args):
    return G.GriffinConfig(vocab_size=vocab_size, width=args.width, num_layers=args.layers,
                           num_heads=args.heads, mlp_width=3 * args.width, lru_width=args.width,
                           head_dim=args.width // args.heads, attention_window=args.window,
                           conv_width=4, logits_soft_cap=30.0)


def build_schedule(n_pre, n_chat, steps, batch, phase_a, chat_a, chat_b, seed):
    """[(kind, row), ...] per step; kind 0 = pretraining row, 1 = chat row.
    Rows of each kind are drawn without replacement from a seeded permutation,
    reshuffled at each pass."""
    gen = torch.Generator().manual_seed(seed)
    pools = {0: (n_pre, [], 0), 1: (n_chat, [], 0)}
    perms = {0: [], 1: []}
    epochs = {0: 0, 1: 0}

    def draw(kind):
        if not perms[kind]:
            n = pools[kind][0]
            perms[kind] = torch.randperm(n, generator=gen).tolist()[::-1]
            epochs[kind] += 1
        return perms[kind].pop()

    sched = []
    steps_a = int(round(steps * phase_a))
    for s in range(steps):
        n_chat_rows = chat_a if s < steps_a else chat_b
        rows = [(1, draw(1)) for _ in range(n_chat_rows)] + [(0, draw(0)) for _ in range(batch - n_chat_rows)]
        sched.append(rows)
    return sched, epochs


def lr_at(step, steps, peak, warmup, floor):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def batch_tensors(data, rows):
    toks = torch.stack([data[k]["tokens"][r] for k, r in rows]).long()
    pos = torch.stack([data[k]["positions"][r] for k, r in rows]).long()
    mask = torch.stack([data[k]["mask"][r] for k, r in rows])
    return toks[:, :-1], pos[:, :-1], toks[:, 1:], mask[:, 1:]


def loss_sum(model, x, pos, y, mask):
    h = model(x, positions=pos, features_only=True)
    D = h.shape[-1]
    sel = mask.reshape(-1)
    hs = h.reshape(-1, D)[sel]
    ys = y.reshape(-1)[sel]
    return G.capped_cross_entropy(hs, model.model.embed_tokens.weight, ys, model.cfg.logits_soft_cap), int(sel.sum())


@torch.no_grad()
def evaluate(model, split, max_rows, bs=8):
    n = min(max_rows, split["tokens"].shape[0])
    total, count = 0.0, 0
    for i in range(0, n, bs):
        rows = list(range(i, min(n, i + bs)))
        toks = split["tokens"][rows].long()
        pos = split["positions"][rows].long()
        mask = split["mask"][rows]
        l, c = loss_sum(model, toks[:, :-1], pos[:, :-1], toks[:, 1:], mask[:, 1:])
        total += float(l)
        count += c
    return total / max(1, count)


class Tok:
    """Minimal tokenizer helper for logging samples: spm_encode for text,
    the exported vocabulary for decoding."""

    def __init__(self, model_path):
        self.model_path = model_path
        vocab = subprocess.run(["spm_export_vocab", f"--model={model_path}"], stdout=subprocess.PIPE,
                               check=True).stdout.decode("utf-8").split("\n")
        self.pieces = [ln.split("\t")[0] for ln in vocab if ln]
        self.sot = self.pieces.index("<start_of_turn>")
        self.eot = self.pieces.index("<end_of_turn>")
        self.nl = self.pieces.index("<0x0A>")

    def encode_lines(self, texts):
        res = subprocess.run(["spm_encode", f"--model={self.model_path}", "--output_format=id"],
                             input="".join(t + "\n" for t in texts).encode(), stdout=subprocess.PIPE, check=True)
        return [[int(v) for v in ln.split()] for ln in res.stdout.decode().split("\n")[:len(texts)]]

    def chat_prompt(self, question):
        user, model, q = self.encode_lines(["user", "model", question])
        return [2, self.sot] + user + [self.nl] + q + [self.eot, self.nl, self.sot] + model + [self.nl]

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            p = self.pieces[i]
            if p.startswith("<0x") and len(p) == 6:
                out.append(int(p[3:5], 16))
            elif p in ("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"):
                continue
            else:
                out += p.replace("\u2581", " ").encode("utf-8")
        return out.decode("utf-8", errors="replace")


@torch.no_grad()
def greedy(model, prompt, max_new=60, stop=(1,)):
    ids = list(prompt)
    for _ in range(max_new):
        logits = model(torch.tensor([ids]))[0, -1]
        nxt = int(torch.argmax(logits))
        if nxt in stop:
            break
        ids.append(nxt)
    return ids[len(prompt):]


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=8, help="rows of seq_len tokens per step")
    ap.add_argument("--phase-a", type=float, default=0.3, help="fraction of steps in phase A")
    ap.add_argument("--chat-a", type=int, default=4, help="chat rows per batch in phase A")
    ap.add_argument("--chat-b", type=int, default=7, help="chat rows per batch in phase B")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-rows", type=int, default=48)
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--resume", action="store_true", help="continue from OUT/ckpt.pt if present")
    ap.add_argument("--max-steps-this-run", type=int, default=0, help="stop early (smoke tests)")
    args = ap.parse_args()

    data = torch.load(os.path.join(args.out, "data", "packed.pt"))
    vocab = data["vocab_size"]
    tok = Tok(os.path.join(args.out, "tokenizer.model"))
    src = {0: data["pretrain_train"], 1: data["chat_train"]}
    sched, _ = build_schedule(src[0]["tokens"].shape[0], src[1]["tokens"].shape[0], args.steps,
                              args.batch, args.phase_a, args.chat_a, args.chat_b, args.seed)

    torch.manual_seed(args.seed)
    cfg = model_config(vocab, args)
    model = G.Griffin(cfg)
    G.init_weights(model, torch.Generator().manual_seed(args.seed))
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and "embed_tokens" not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    log_path = os.path.join(args.out, "train.log")
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    start, tokens_seen, targets_seen, elapsed_prev = 0, 0, 0, 0.0
    history = []
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        if ck["args"]["steps"] != args.steps or ck["args"]["seed"] != args.seed:
            sys.exit("checkpoint was made with different --steps/--seed")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start, tokens_seen, targets_seen = ck["step"], ck["tokens_seen"], ck["targets_seen"]
        elapsed_prev, history = ck["elapsed"], ck["history"]
    logf = open(log_path, "a")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    if start == 0:
        log(f"start: {json.dumps(vars(args))}")
        log(f"model: vocab {vocab}, width {cfg.width}, layers {cfg.num_layers}, heads {cfg.num_heads}, "
            f"mlp {cfg.mlp_width}, window {cfg.attention_window}; parameters {model.num_parameters():,} "
            f"({model.num_parameters(False):,} non-embedding)")
        log(f"data: pretrain rows {src[0]['tokens'].shape[0]}, chat rows {src[1]['tokens'].shape[0]}, "
            f"seq_len {data['seq_len']}")
    else:
        log(f"resume at step {start}")

    samples = ["What does 'lucid' mean?", "What is 7 plus 5?", "Who is John Smith?",
               "What is the opposite of 'happy'?"]
    t_run = time.time()
    run_steps = 0
    model.train()
    for step in range(start, args.steps):
        t0 = time.time()
        lr = lr_at(step, args.steps, args.lr, args.warmup, args.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        rows = sched[step]
        x, pos, y, mask = batch_tensors(src, rows)
        total, count = loss_sum(model, x, pos, y, mask)
        loss = total / count
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip))
        opt.step()
        tokens_seen += x.numel()
        targets_seen += count
        dt = time.time() - t0
        history.append(float(loss))
        if step % 10 == 0 or step == args.steps - 1:
            log(f"step {step + 1}/{args.steps} loss {float(loss):.4f} lr {lr:.2e} gnorm {gnorm:.2f} "
                f"tokens {tokens_seen} targets {targets_seen} step_s {dt:.2f} "
                f"elapsed_s {elapsed_prev + time.time() - t_run:.0f}")
        last = step == args.steps - 1
        if (step + 1) % args.eval_every == 0 or last:
            model.eval()
            vp = evaluate(model, data["pretrain_val"], 10 ** 9 if last else args.eval_rows)
            vc = evaluate(model, data["chat_val"], 10 ** 9 if last else args.eval_rows)
            log(f"eval step {step + 1}: val_pretrain {vp:.4f} val_chat {vc:.4f}")
            for q in samples:
                ans = tok.decode(greedy(model, tok.chat_prompt(q), stop=(1, tok.eot)))
                log(f"  sample: {q!r} -> {ans!r}")
            model.train()
        run_steps += 1
        if (step + 1) % args.ckpt_every == 0 or last or run_steps == args.max_steps_this_run:
            save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1,
                         "tokens_seen": tokens_seen, "targets_seen": targets_seen,
                         "elapsed": elapsed_prev + time.time() - t_run, "history": history,
                         "args": vars(args), "config": cfg.to_hf("float32")}, ckpt_path)
        if run_steps == args.max_steps_this_run and not last:
            log(f"stopping after {run_steps} steps (--max-steps-this-run)")
            return
    elapsed = elapsed_prev + time.time() - t_run
    save_atomic({k: v.detach().clone() for k, v in model.state_dict().items()},
                os.path.join(args.out, "final.pt"))
    summary = {
        "steps": args.steps, "batch_rows": args.batch, "seq_len": data["seq_len"],
        "tokens_seen": tokens_seen, "target_tokens_seen": targets_seen,
        "final_train_loss_last50": sum(history[-50:]) / len(history[-50:]),
        "val_pretrain_loss": vp, "val_chat_loss": vc,
        "parameters": model.num_parameters(), "non_embedding_parameters": model.num_parameters(False),
        "elapsed_s": elapsed, "args": vars(args), "config": cfg.to_hf("bfloat16"),
    }
    with open(os.path.join(args.out, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log(f"done: {json.dumps({k: v for k, v in summary.items() if k not in ('args', 'config')})}")


if __name__ == "__main__":
    main()
